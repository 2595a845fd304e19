//! The GEMM behind every CPU convolution and the drawing path: the `gemm` crate, the one
//! burn-flex uses, with its strides exposed so that either operand can be read transposed.

/// The last index a `rows`×`cols` matrix with (column, row) strides `[cs, rs]` reads, plus one.
fn extent(rows: usize, cols: usize, [cs, rs]: [isize; 2]) -> usize {
    if rows == 0 || cols == 0 {
        return 0;
    }
    (rows - 1) * rs as usize + (cols - 1) * cs as usize + 1
}

/// `dst[m×n] = lhs[m×k] · rhs[k×n]`, row-major `dst`, multiplied by gemm (the crate burn-flex
/// uses) on every core; `lhs` and `rhs` given with their (column, row) strides, so either can
/// be read transposed.
pub(crate) fn gemm(
    [m, n, k]: [usize; 3],
    lhs: (&[f32], [isize; 2]),
    rhs: (&[f32], [isize; 2]),
) -> Vec<f32> {
    let mut dst = Vec::<f32>::with_capacity(m * n);
    // SAFETY: `dst` has room for m·n values, which the GEMM writes all of without reading any
    // (`accumulate` false); `gemm_raw` checks the reads.
    unsafe {
        gemm_raw(dst.as_mut_ptr(), [m, n, k], lhs, rhs, false, true);
        dst.set_len(m * n);
    }
    dst
}

/// `dst[m×n] (+)= lhs[m×k] · rhs[k×n]` into a row-major `dst`: added to what `dst` holds when
/// `accumulate`, on every core when `parallel` (else on the calling thread, for callers that
/// run several at once).
pub(crate) fn gemm_into(
    dst: &mut [f32],
    [m, n, k]: [usize; 3],
    lhs: (&[f32], [isize; 2]),
    rhs: (&[f32], [isize; 2]),
    accumulate: bool,
    parallel: bool,
) {
    assert!(dst.len() >= m * n, "dst holds {m}×{n}");
    // SAFETY: `dst` holds m·n initialised values.
    unsafe { gemm_raw(dst.as_mut_ptr(), [m, n, k], lhs, rhs, accumulate, parallel) }
}

/// `dst[m×n] = lhs[m×k] · rhs[k×n]` into fresh (uninitialised) row-major storage, every slot
/// written and none read, as [`gemm_into`] otherwise.
pub(crate) fn gemm_fresh(
    dst: &mut [std::mem::MaybeUninit<f32>],
    [m, n, k]: [usize; 3],
    lhs: (&[f32], [isize; 2]),
    rhs: (&[f32], [isize; 2]),
    parallel: bool,
) {
    assert!(dst.len() >= m * n, "dst holds {m}×{n}");
    // SAFETY: `dst` has room for m·n values; without `accumulate` none is read before written.
    unsafe {
        gemm_raw(
            dst.as_mut_ptr().cast(),
            [m, n, k],
            lhs,
            rhs,
            false,
            parallel,
        )
    }
}

/// The one GEMM call of hitogata's CPU paths (training ops and drawing).
///
/// # Safety
/// `dst` must have room for `m·n` values, initialised ones where `accumulate`.
unsafe fn gemm_raw(
    dst: *mut f32,
    [m, n, k]: [usize; 3],
    lhs: (&[f32], [isize; 2]),
    rhs: (&[f32], [isize; 2]),
    accumulate: bool,
    parallel: bool,
) {
    assert!(
        lhs.1.iter().chain(&rhs.1).all(|&s| s > 0),
        "positive strides"
    );
    assert!(lhs.0.len() >= extent(m, k, lhs.1), "lhs holds {m}×{k}");
    assert!(rhs.0.len() >= extent(k, n, rhs.1), "rhs holds {k}×{n}");
    let parallelism = if parallel {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the caller vouches for `dst`; the assertions above keep every read inside `lhs`
    // and `rhs`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            n as isize,
            accumulate,
            lhs.0.as_ptr(),
            lhs.1[0],
            lhs.1[1],
            rhs.0.as_ptr(),
            rhs.1[0],
            rhs.1[1],
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}
