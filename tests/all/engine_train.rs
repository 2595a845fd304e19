//! Training sessions: WGAN clipping and progress, determinism, exact resume, divergence.

use crate::common;

use hitogata::checkpoint::load_generator;
use hitogata::data::Dataset;
use hitogata::latent::{Latent, sample_batch};
use hitogata::optim::OptimizerConfig;
use hitogata::train::{Algorithm, RunChanges, TrainConfig, TrainError, TrainingSession};

fn wasserstein_on_fixed_batch(
    session: &TrainingSession,
    dev: &hitogata::device::ComputeDevice,
    fakes: &Dataset,
) -> f32 {
    let data = session.data().clone();
    let idx: Vec<usize> = (0..data.len).collect();
    let real = data.batch(&idx, &vec![false; idx.len()], &dev.device);
    let fidx: Vec<usize> = (0..fakes.len).collect();
    let fake = fakes.batch(&fidx, &vec![false; fidx.len()], &dev.device);
    session.critic_mean(real) - session.critic_mean(fake)
}

/// A tiny DCGAN session trained `steps` steps and saved, to resume from: the device, the
/// data, the checkpoint folder (keep it alive) and the session itself.
fn saved_dcgan(
    steps: usize,
) -> (
    hitogata::device::ComputeDevice,
    std::sync::Arc<Dataset>,
    tempfile::TempDir,
    TrainingSession,
) {
    let dev = common::cpu();
    let data = common::disc_dataset(8);
    let dir = tempfile::tempdir().unwrap();
    let mut session =
        TrainingSession::new(common::tiny_dcgan_config(), data.clone(), &dev.device).unwrap();
    for _ in 0..steps {
        session.step().unwrap();
    }
    session.save_checkpoint(dir.path()).unwrap();
    (dev, data, dir, session)
}

/// What a session's generator (its average) draws for `z`.
fn draw(
    session: &TrainingSession,
    z: &[Latent],
    dev: &hitogata::device::ComputeDevice,
) -> Vec<f32> {
    session
        .inference_generator()
        .forward(hitogata::inference::latents_tensor(z, &dev.device))
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

#[test]
fn wgan_critic_steps_keep_weights_clipped_and_raise_the_estimate() {
    for dev in common::devices() {
        let config = common::tiny_train_config();
        let mut session =
            TrainingSession::new(config.clone(), common::disc_dataset(8), &dev.device).unwrap();
        let fakes =
            Dataset::from_images(&session.generate(&sample_batch(99, 8, config.model.latent_dim)));
        session.train_critic_only(1).unwrap();
        let before = wasserstein_on_fixed_batch(&session, &dev, &fakes);
        session.train_critic_only(30).unwrap();
        let after = wasserstein_on_fixed_batch(&session, &dev, &fakes);
        let params = session.critic_parameters();
        let max = params.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            max <= config.clip + 1e-7,
            "critic weight {max} outside ±{} on {}",
            config.clip,
            dev.description
        );
        assert!(
            after > before,
            "W estimate {before} → {after} on {}",
            dev.description
        );
    }
}

#[test]
fn same_seed_same_numbers_on_cpu() {
    let dev = common::cpu();
    let run = || {
        let mut s = TrainingSession::new(
            common::tiny_train_config(),
            common::disc_dataset(8),
            &dev.device,
        )
        .unwrap();
        (0..2)
            .map(|_| s.step().unwrap())
            .map(|m| (m.critic_loss, m.wasserstein, m.generator_loss))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn resume_after_n_steps_equals_n_plus_m_uninterrupted_on_cpu() {
    let dev = common::cpu();
    let data = common::disc_dataset(8);
    let config = common::tiny_train_config();
    let dir = tempfile::tempdir().unwrap();

    let mut a = TrainingSession::new(config.clone(), data.clone(), &dev.device).unwrap();
    for _ in 0..3 {
        a.step().unwrap();
    }
    a.save_checkpoint(dir.path()).unwrap();
    drop(a);
    let mut resumed = TrainingSession::resume(dir.path(), data.clone(), &dev.device).unwrap();
    assert_eq!(resumed.step_count(), 3);
    let tail_resumed: Vec<_> = (0..2)
        .map(|_| resumed.step().unwrap())
        .map(|m| (m.critic_loss, m.wasserstein, m.generator_loss))
        .collect();

    let mut b = TrainingSession::new(config, data, &dev.device).unwrap();
    let all: Vec<_> = (0..5)
        .map(|_| b.step().unwrap())
        .map(|m| (m.critic_loss, m.wasserstein, m.generator_loss))
        .collect();
    assert_eq!(tail_resumed, all[3..].to_vec());
    assert_eq!(resumed.critic_parameters(), b.critic_parameters());
    assert!(
        resumed.sample_images() == b.sample_images(),
        "samples differ after resume"
    );
    assert_eq!(resumed.history().len(), 5);
}

#[test]
fn adam_state_resumes_exactly_too() {
    let dev = common::cpu();
    let data = common::disc_dataset(8);
    let config = common::tiny_dcgan_config();
    let dir = tempfile::tempdir().unwrap();
    let mut a = TrainingSession::new(config.clone(), data.clone(), &dev.device).unwrap();
    a.step().unwrap();
    a.step().unwrap();
    a.save_checkpoint(dir.path()).unwrap();
    let mut resumed = TrainingSession::resume(dir.path(), data, &dev.device).unwrap();
    let m1 = resumed.step().unwrap();
    let m2 = a.step().unwrap();
    assert_eq!(
        (m1.critic_loss, m1.generator_loss),
        (m2.critic_loss, m2.generator_loss)
    );
    assert!(
        m1.critic_loss.is_finite() && m1.critic_loss > 0.0,
        "BCE loss is positive"
    );
}

#[test]
fn divergence_stops_with_a_clear_error_and_keeps_the_checkpoint() {
    let dev = common::cpu();
    let mut config = common::tiny_train_config();
    // One update sends the generator's weights past f32's range.
    config.optimizer_g = config.optimizer_g.with_lr(1e38);
    let dir = tempfile::tempdir().unwrap();
    let mut s = TrainingSession::new(config, common::disc_dataset(8), &dev.device).unwrap();
    s.save_checkpoint(dir.path()).unwrap();
    let saved = std::fs::read(dir.path().join("generator.safetensors")).unwrap();
    let err = (0..3)
        .find_map(|_| s.step().err())
        .expect("NaN weights must be detected");
    assert!(matches!(err, TrainError::Diverged { .. }), "{err}");
    assert!(err.to_string().contains("diverged"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("generator.safetensors")).unwrap(),
        saved
    );
    assert!(load_generator(dir.path(), &dev.device).is_ok());
}

#[test]
fn bad_configs_are_rejected_before_training() {
    let dev = common::cpu();
    let mut config = common::tiny_train_config();
    config.batch_size = 0;
    let err = TrainingSession::new(config, common::disc_dataset(2), &dev.device)
        .err()
        .unwrap();
    assert!(err.to_string().contains("batch_size"), "{err}");
    // A rate that would poison every weight at once.
    let mut config = common::tiny_train_config();
    config.optimizer_g = OptimizerConfig::RmsProp {
        lr: f64::NAN,
        alpha: 0.99,
        epsilon: 1e-8,
    };
    let err = TrainingSession::new(config, common::disc_dataset(2), &dev.device)
        .err()
        .unwrap();
    assert!(err.to_string().contains("learning rate"), "{err}");

    // A config file may hold a colour strength that the flag would refuse.
    let mut config = common::tiny_train_config();
    config.augment = hitogata::train::Augment {
        color_strength: Some(3.0),
        ..hitogata::train::Augment::ALL
    };
    let err = TrainingSession::new(config, common::disc_dataset(2), &dev.device)
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("colour augmentation strength"),
        "{err}"
    );
}

#[test]
fn a_saved_session_resumes_with_identical_samples() {
    let dev = common::cpu();
    let data = common::disc_dataset(8);
    let dir = tempfile::tempdir().unwrap();
    let mut a =
        TrainingSession::new(common::tiny_train_config(), data.clone(), &dev.device).unwrap();
    a.step().unwrap();
    a.step().unwrap();
    a.save_checkpoint(dir.path()).unwrap();
    let resumed = TrainingSession::resume(dir.path(), data, &dev.device).unwrap();
    assert!(
        resumed.sample_images() == a.sample_images(),
        "samples differ right after resume"
    );
}

#[test]
fn a_resize_convolution_generator_trains_on_both_devices_and_resumes() {
    for dev in common::devices() {
        let data = common::disc_dataset(8);
        let mut config = common::tiny_dcgan_config();
        config.model = config
            .model
            .with_upsampling(Some(hitogata::model::Upsampling::Resize));
        let mut a = TrainingSession::new(config, data.clone(), &dev.device).unwrap();
        let before = a.sample_images();
        for _ in 0..2 {
            let m = a.step().unwrap();
            assert!(m.critic_loss.is_finite() && m.generator_loss.is_finite());
        }
        assert!(a.sample_images() != before, "the generator learned nothing");
        let dir = tempfile::tempdir().unwrap();
        a.save_checkpoint(dir.path()).unwrap();
        let resumed = TrainingSession::resume(dir.path(), data, &dev.device).unwrap();
        assert!(
            resumed.sample_images() == a.sample_images(),
            "{}",
            dev.description
        );
    }
}

#[test]
fn the_wgan_warmup_schedule_runs_100_critic_steps_early_and_every_500th() {
    let mut c = TrainConfig::default();
    assert_eq!((c.batch_size, c.n_critic, c.clip), (64, 5, 0.01));
    assert_eq!(c.critic_steps_at(0), 5);
    c.warmup_schedule = true;
    assert_eq!(c.critic_steps_at(0), 100);
    assert_eq!(c.critic_steps_at(24), 100);
    assert_eq!(c.critic_steps_at(25), 5);
    assert_eq!(c.critic_steps_at(500), 100);
    assert_eq!(c.critic_steps_at(501), 5);
    assert_eq!(
        TrainConfig::for_algorithm(Algorithm::Dcgan).critic_steps_at(0),
        1
    );
}

#[test]
fn training_configs_round_trip_through_ron() {
    let c = TrainConfig::for_algorithm(Algorithm::Dcgan);
    let text = ron::ser::to_string_pretty(&c, ron::ser::PrettyConfig::default()).unwrap();
    assert_eq!(ron::from_str::<TrainConfig>(&text).unwrap(), c);
    // Configs written before `critic_view` existed read as the full view.
    let older = text.replace("critic_view: Full,", "");
    assert_ne!(older, text);
    assert_eq!(ron::from_str::<TrainConfig>(&older).unwrap(), c);
}

#[test]
fn the_learning_rate_can_be_lowered_on_resume_and_is_saved() {
    let dev = common::cpu();
    let data = common::disc_dataset(8);
    let mut config = common::tiny_dcgan_config();
    // No BatchNorm in the critic: its running statistics would move whatever the rate.
    config.model = config.model.with_critic_batch_norm(false);
    let dir = tempfile::tempdir().unwrap();
    let mut a = TrainingSession::new(config, data.clone(), &dev.device).unwrap();
    a.step().unwrap();
    a.step().unwrap();
    a.save_checkpoint(dir.path()).unwrap();
    let before = a.critic_parameters();

    let change = |lr: Option<(f64, f64)>| {
        let mut s = TrainingSession::resume(dir.path(), data.clone(), &dev.device).unwrap();
        match lr {
            Some((g, c)) if g == c => s.apply(&rates(Some(g), None)).unwrap(),
            Some((g, c)) => s.apply(&rates(Some(g), Some(c))).unwrap(),
            None => {}
        }
        s.step().unwrap();
        let after = s.critic_parameters();
        let moved: f32 = after.iter().zip(&before).map(|(x, y)| (x - y).abs()).sum();
        (moved, s)
    };
    let (default_move, _) = change(None);
    let (slow_move, slow) = change(Some((2e-6, 2e-6)));
    assert!(default_move > 0.0);
    // Adam's step is proportional to the learning rate: 100× smaller here.
    let ratio = slow_move / default_move;
    assert!((0.002..0.05).contains(&ratio), "ratio {ratio}");
    // Only the critic slowed: the same for the critic's weights, and both rates are kept.
    let (critic_only_move, critic_only) = change(Some((2e-4, 2e-6)));
    let ratio = critic_only_move / default_move;
    assert!((0.002..0.05).contains(&ratio), "ratio {ratio}");
    assert_eq!(critic_only.config().optimizer_g.lr(), 2e-4);
    assert_eq!(critic_only.config().optimizer_c.lr(), 2e-6);

    let saved = tempfile::tempdir().unwrap();
    slow.save_checkpoint(saved.path()).unwrap();
    let again = TrainingSession::resume(saved.path(), data, &dev.device).unwrap();
    assert_eq!(again.config().optimizer_g.lr(), 2e-6);
    assert_eq!(again.config().optimizer_c.lr(), 2e-6);

    let mut bad = again;
    assert!(bad.apply(&rates(Some(0.0), None)).is_err());
    assert!(bad.apply(&rates(Some(f64::NAN), None)).is_err());
    assert!(bad.apply(&rates(Some(1e-4), Some(-1.0))).is_err());
}

fn rates(lr: Option<f64>, critic_lr: Option<f64>) -> RunChanges {
    RunChanges {
        lr,
        critic_lr,
        ..RunChanges::default()
    }
}

fn scale(output_scale: f32) -> RunChanges {
    RunChanges {
        output_scale: Some(output_scale),
        ..RunChanges::default()
    }
}

fn fresh_critic(ndf: Option<usize>, batch_norm: Option<bool>) -> RunChanges {
    RunChanges {
        reset_critic: true,
        critic_ndf: ndf,
        critic_batch_norm: batch_norm,
        ..RunChanges::default()
    }
}

#[test]
fn a_resumed_session_can_change_its_output_scale() {
    let (dev, data, dir, a) = saved_dcgan(1);
    let mut b = TrainingSession::resume(dir.path(), data.clone(), &dev.device).unwrap();
    assert!(b.apply(&scale(2.5)).is_err());
    b.apply(&scale(1.5)).unwrap();
    let z = sample_batch(3, 4, b.config().model.latent_dim);
    let draw = |s: &TrainingSession| draw(s, &z, &dev);
    // The same weights: every output stretched by the scale (a fresh model stays inside ±1).
    for (x, y) in draw(&a).iter().zip(draw(&b)) {
        assert!((1.5 * x - y).abs() < 1e-5, "{x} → {y}");
    }
    b.step().unwrap();
    b.save_checkpoint(dir.path()).unwrap();
    let saved = load_generator(dir.path(), &dev.device).unwrap();
    assert_eq!(saved.config.output_scale, Some(1.5));
    let c = TrainingSession::resume(dir.path(), data, &dev.device).unwrap();
    assert_eq!(c.config().model.output_scale(), 1.5);
    assert_eq!(draw(&c), draw(&b), "resumes with the scale");
}

#[test]
fn a_resumed_session_can_start_a_fresh_critic_reproducibly() {
    let (dev, data, dir, a) = saved_dcgan(3);
    let trained = a.critic_parameters();
    let z = sample_batch(5, 4, a.config().model.latent_dim);
    let draw = |s: &TrainingSession| draw(s, &z, &dev);

    let fresh = || {
        let mut s = TrainingSession::resume(dir.path(), data.clone(), &dev.device).unwrap();
        s.apply(&fresh_critic(None, None)).unwrap();
        s
    };
    let (mut b, c) = (fresh(), fresh());
    let reset = b.critic_parameters();
    assert_eq!(reset.len(), trained.len());
    assert_ne!(reset, trained, "the critic's weights are new");
    assert_eq!(
        reset,
        c.critic_parameters(),
        "the same seed and step give the same critic"
    );
    // Nothing else changes: the generator, its average, the step and the history stay.
    assert_eq!(draw(&b), draw(&a));
    assert_eq!(b.step_count(), 3);
    assert_eq!(b.history().len(), 3);
    // A new run's critic is not what the reset draws (the step is part of its seed).
    let new = TrainingSession::new(common::tiny_dcgan_config(), data, &dev.device).unwrap();
    assert_ne!(reset, new.critic_parameters());

    let metrics = b.step().unwrap();
    assert!(metrics.critic_loss.is_finite());
    assert_ne!(b.critic_parameters(), reset, "the fresh critic trains");

    // The new critic may be wider and drop BatchNorm; the checkpoint then describes it.
    let mut d = TrainingSession::resume(dir.path(), a.data().clone(), &dev.device).unwrap();
    assert!(
        d.apply(&fresh_critic(Some(0), None)).is_err(),
        "ndf 0 is refused"
    );
    assert!(
        d.config().model.critic_batch_norm,
        "a refused reset changes nothing"
    );
    d.apply(&fresh_critic(Some(12), Some(false))).unwrap();
    assert!(d.critic_parameters().len() > trained.len());
    d.step().unwrap();
    let saved = tempfile::tempdir().unwrap();
    d.save_checkpoint(saved.path()).unwrap();
    let e = TrainingSession::resume(saved.path(), a.data().clone(), &dev.device).unwrap();
    assert_eq!(e.config().model.ndf, 12);
    assert!(!e.config().model.critic_batch_norm);
    assert_eq!(e.critic_parameters(), d.critic_parameters());
    assert_eq!(
        draw(&e),
        draw(&d),
        "the generator is untouched by the critic's shape"
    );
}

#[test]
fn run_changes_change_what_they_name_and_nothing_else() {
    use hitogata::train::{Augment, CriticView};
    let (dev, data, dir, a) = saved_dcgan(1);
    let resume = || TrainingSession::resume(dir.path(), data.clone(), &dev.device).unwrap();

    let none = RunChanges::default();
    assert!(none.is_empty());
    let mut b = resume();
    b.apply(&none).unwrap();
    assert_eq!(b.config(), a.config());
    assert_eq!(b.critic_parameters(), a.critic_parameters());

    let all = RunChanges {
        lr: Some(1e-4),
        critic_lr: Some(3e-5),
        ema_decay: Some(0.99),
        batch_size: Some(3),
        augment: Some(Augment::ALL),
        color_strength: Some(0.25),
        adaptive_augment: Some(Some(hitogata::train::AdaptiveAugment::with_target(0.7))),
        augment_share: Some(0.25),
        critic_view: Some(CriticView::Lowpass(2)),
        output_scale: Some(1.2),
        detail_anchor: None,
        reset_critic: true,
        critic_ndf: Some(6),
        critic_batch_norm: Some(false),
    };
    assert!(!all.is_empty());
    let mut c = resume();
    c.apply(&all).unwrap();
    let config = c.config();
    assert_eq!(config.optimizer_g.lr(), 1e-4);
    assert_eq!(config.optimizer_c.lr(), 3e-5);
    assert_eq!(config.ema_decay, 0.99);
    assert_eq!(config.batch_size, 3);
    assert_eq!(
        config.augment,
        Augment::ALL.with_color_strength(0.25).unwrap()
    );
    assert_eq!(config.adaptive_augment.map(|a| a.target), Some(0.7));
    assert_eq!(c.augment_share(), 0.25);
    assert_eq!(config.model.output_scale(), 1.2);
    assert_eq!(config.model.ndf, 6);
    assert!(!config.model.critic_batch_norm);
    assert_eq!(config.critic_view, CriticView::Lowpass(2));
    assert_eq!(
        config.model.ngf,
        a.config().model.ngf,
        "the generator's shape stays"
    );
    c.step().expect("a step at the new batch size and critic");

    // Without the reset the critic stays, whatever the other changes.
    let mut d = resume();
    d.apply(&all.without_reset()).unwrap();
    assert_eq!(d.critic_parameters(), a.critic_parameters());
    assert_eq!(d.config().optimizer_c.lr(), 3e-5);
    // --lr alone sets both rates.
    let mut e = resume();
    e.apply(&rates(Some(2e-5), None)).unwrap();
    assert_eq!(e.config().optimizer_c.lr(), 2e-5);

    let bad = RunChanges {
        output_scale: Some(3.0),
        ..Default::default()
    };
    assert!(resume().apply(&bad).is_err());
    let too_strong = RunChanges {
        color_strength: Some(1.5),
        ..Default::default()
    };
    assert!(resume().apply(&too_strong).is_err());
    let empty_batch = RunChanges {
        batch_size: Some(0),
        ..Default::default()
    };
    let mut f = resume();
    assert!(f.apply(&empty_batch).is_err());
    assert_eq!(f.config(), a.config(), "a refused change changes nothing");
    // The critic's shape changes only with a fresh critic.
    let shape_alone = RunChanges {
        critic_ndf: Some(6),
        ..Default::default()
    };
    assert!(resume().apply(&shape_alone).is_err());
}

#[test]
fn a_new_run_can_start_from_a_trained_generator() {
    let (dev, data, dir, trained) = saved_dcgan(3);
    let z = sample_batch(5, 4, trained.config().model.latent_dim);
    let draw = |s: &TrainingSession| draw(s, &z, &dev);
    let raw_draw = |s: &TrainingSession| {
        s.raw_generator()
            .forward(hitogata::inference::latents_tensor(&z, &dev.device))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    let export = tempfile::tempdir().unwrap();
    trained.export_generator(export.path()).unwrap();
    let config = TrainConfig {
        seed: 11,
        ..common::tiny_dcgan_config()
    };

    // From an export and from a training checkpoint (whose weight average it takes): both
    // start where the trained generator's pictures are, raw weights and average alike.
    for source in [export.path(), dir.path()] {
        let s = TrainingSession::from_generator(config.clone(), source, data.clone(), &dev.device)
            .unwrap();
        assert_eq!(draw(&s), draw(&trained));
        assert_eq!(raw_draw(&s), draw(&trained));
        assert_eq!(s.step_count(), 0);
        assert!(s.history().is_empty());
        assert_eq!(s.config().initial_generator.as_deref(), Some(source));
        assert_ne!(s.critic_parameters(), trained.critic_parameters());
    }

    // The average starts warm: one step moves it by about 1/1000 of what the raw weights move.
    let mut b =
        TrainingSession::from_generator(config.clone(), export.path(), data.clone(), &dev.device)
            .unwrap();
    let before = draw(&b);
    b.step().unwrap();
    let moved = |after: &[f32]| {
        after
            .iter()
            .zip(&before)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };
    let (average, raw) = (moved(&draw(&b)), moved(&raw_draw(&b)));
    assert!(raw > 0.0, "the raw weights train");
    assert!(
        average < 0.01 * raw,
        "average moved {average}, raw weights {raw}"
    );

    // Reproducible, and resumable with where it came from.
    let mut c =
        TrainingSession::from_generator(config.clone(), export.path(), data.clone(), &dev.device)
            .unwrap();
    assert_eq!(c.step().unwrap().critic_loss, b.history()[0].critic_loss);
    let saved = tempfile::tempdir().unwrap();
    b.save_checkpoint(saved.path()).unwrap();
    let d = TrainingSession::resume(saved.path(), data.clone(), &dev.device).unwrap();
    assert_eq!(d.config().initial_generator.as_deref(), Some(export.path()));
    assert_eq!(draw(&d), draw(&b));
    // A run from random weights with that config (as the Training tab reuses it) did not.
    let fresh = TrainingSession::new(d.config().clone(), data.clone(), &dev.device).unwrap();
    assert_eq!(fresh.config().initial_generator, None);

    // The shapes are the loaded generator's, whatever the config says; the output scale can
    // be changed afterwards like any run's.
    let mut other_shapes = config.clone();
    other_shapes.model.ngf = 2;
    other_shapes.model.latent_dim = 9;
    other_shapes.model.output_scale = Some(1.7);
    let mut e =
        TrainingSession::from_generator(other_shapes, export.path(), data.clone(), &dev.device)
            .unwrap();
    assert_eq!(e.config().model, trained.config().model);
    assert_eq!(draw(&e), draw(&trained));
    e.apply(&scale(1.2)).unwrap();
    assert_eq!(e.config().model.output_scale(), 1.2);
    assert_ne!(draw(&e), draw(&trained));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        TrainingSession::from_generator(config, empty.path(), data, &dev.device),
        Err(TrainError::Checkpoint(_))
    ));
}

#[test]
fn critic_warm_up_trains_the_critic_alone_reproducibly() {
    let (dev, data, dir, trained) = saved_dcgan(3);
    let z = sample_batch(5, 4, trained.config().model.latent_dim);
    let start = || {
        let mut s = TrainingSession::resume(dir.path(), data.clone(), &dev.device).unwrap();
        s.apply(&fresh_critic(None, None)).unwrap();
        s
    };
    let (mut a, mut b) = (start(), start());
    let fresh = a.critic_parameters();
    let mut seen = vec![fresh.clone()];
    for _ in 0..3 {
        let (loss, gap) = a.warm_up_critic().unwrap();
        assert!(loss.is_finite() && gap.is_finite());
        let now = a.critic_parameters();
        assert!(!seen.contains(&now), "each update changes the critic");
        seen.push(now);
    }
    // The generator, its average, the step and the history are untouched.
    assert_eq!(draw(&a, &z, &dev), draw(&trained, &z, &dev));
    assert_eq!(a.step_count(), 3);
    assert_eq!(a.history().len(), 3);
    // The same warm-up twice gives the same critic, and training then goes on identically.
    b.train_critic_only(3).unwrap();
    assert_eq!(a.critic_parameters(), b.critic_parameters());
    let (ma, mb) = (a.step().unwrap(), b.step().unwrap());
    assert_eq!(
        (ma.critic_loss, ma.wasserstein, ma.generator_loss),
        (mb.critic_loss, mb.wasserstein, mb.generator_loss)
    );
}
