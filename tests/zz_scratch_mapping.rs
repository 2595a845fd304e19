#[test]
#[ignore]
fn mapping_displacement() {
    let dev = hitogata::device::select_device(hitogata::device::DeviceChoice::Cpu).unwrap();
    for dir in std::env::var("MAPPED").unwrap().split(',') {
        let g = hitogata::checkpoint::load_generator(std::path::Path::new(dir), &dev.device)
            .unwrap()
            .generator;
        let z = hitogata::inference::latents_tensor(
            &hitogata::latent::sample_batch(1, 2000, 40),
            &dev.device,
        );
        let m = g.mapped_latents(z.clone());
        let d = (m.clone() - z.clone()).powf_scalar(2.0).sum_dim(1).sqrt();
        let norm = z.clone().powf_scalar(2.0).sum_dim(1).sqrt();
        let dv: Vec<f32> = d.into_data().try_to_vec().unwrap();
        let nv: Vec<f32> = norm.into_data().try_to_vec().unwrap();
        let mut r: Vec<f32> = dv.iter().zip(&nv).map(|(a, b)| a / b).collect();
        r.sort_by(|a, b| a.total_cmp(b));
        let mv: Vec<f32> = m
            .clone()
            .powf_scalar(2.0)
            .sum_dim(1)
            .sqrt()
            .into_data()
            .try_to_vec()
            .unwrap();
        let mean_norm_m = mv.iter().sum::<f32>() / mv.len() as f32;
        println!(
            "{dir}: |z'-z|/|z| median {:.4} p90 {:.4} max {:.4}; mean |z'| {:.3} (|z| {:.3})",
            r[1000],
            r[1800],
            r[1999],
            mean_norm_m,
            nv.iter().sum::<f32>() / 2000.0
        );
    }
}
