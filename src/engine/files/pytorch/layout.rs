//! Which layers a PyTorch state dict holds, in order, and the hitogata shapes and weight
//! names they become. Two layouts are read:
//!
//! - pytorch/examples `dcgan/main.py` (the PyTorch DCGAN tutorial's): an `nn.Sequential`,
//!   keys `main.{index}.{param}`;
//! - martinarjovsky/WassersteinGAN `models/dcgan.py`: named modules, keys such as
//!   `main.initial.{nz}-{c}.convt.weight`, `main.pyramid.{c}.batchnorm.running_mean`,
//!   `main.extra-layers-{t}.{c}.conv.weight`, `main.final.{c}-{nc}.convt.weight` (its forks
//!   write `:` where the 2017 code wrote `.`; both are read).
//!
//! The files hold no strides or paddings: both code bases use DCGAN's (4×4 kernels, stride 1
//! and padding 0 at the 4×4 end, stride 2 and padding 1 elsewhere; 3×3 extra layers), which
//! is what hitogata's model has. Everything else is read off the tensors' shapes.

use std::collections::BTreeMap;

use super::Role;
use crate::engine::model::{IMAGE_SIZES, MAX_EXTRA_LAYERS};

/// One tensor of the file: its key and shape.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    pub shape: Vec<usize>,
}

/// A BatchNorm's tensors (`weight`, `bias`, `running_mean`, `running_var`).
#[derive(Clone, Debug)]
pub struct Norm {
    pub module: String,
    pub params: BTreeMap<String, Entry>,
}

impl Norm {
    fn channels(&self) -> Option<usize> {
        self.params.get("running_mean").map(|e| e.shape[0])
    }
}

/// A convolution's weight and the BatchNorm after it, if any.
#[derive(Clone, Debug)]
pub struct Layer {
    pub weight: Entry,
    pub norm: Option<Norm>,
}

/// A network read from a state dict: its main chain of 4×4 convolutions (first to last)
/// and its extra 3×3 layers.
#[derive(Clone, Debug)]
pub struct Network {
    pub role: Role,
    pub chain: Vec<Layer>,
    pub extras: Vec<Layer>,
}

/// The shapes a network has, in hitogata's terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Shapes {
    /// The latent size (generators only).
    pub latent_dim: Option<usize>,
    /// ngf or ndf.
    pub width: usize,
    pub image_size: usize,
    pub channels: usize,
    pub batch_norm: bool,
    pub extra_layers: usize,
}

/// A module's parameters, grouped from the keys under one network's `main.`.
type Modules = BTreeMap<String, BTreeMap<String, Entry>>;

/// Groups `key → shape` (keys relative to `main.`, `:` already made `.`) by module.
fn modules(entries: &[Entry]) -> Result<Modules, String> {
    let mut out = Modules::new();
    for e in entries {
        let (module, param) = e
            .key
            .rsplit_once('.')
            .ok_or_else(|| format!("'main.{}' names no layer", e.key))?;
        out.entry(module.to_string())
            .or_default()
            .insert(param.to_string(), e.clone());
    }
    Ok(out)
}

fn is_norm(params: &BTreeMap<String, Entry>) -> bool {
    params.contains_key("running_mean")
}

fn conv_weight(module: &str, params: &BTreeMap<String, Entry>) -> Result<Entry, String> {
    if let Some(bias) = params.get("bias") {
        return Err(format!(
            "'main.{}': a convolution with a bias; DCGAN's have none",
            bias.key
        ));
    }
    let weight = params
        .get("weight")
        .ok_or_else(|| format!("'main.{module}': a layer with no weight"))?;
    if weight.shape.len() != 4 {
        return Err(format!(
            "'main.{}' has shape {:?}; expected a convolution's 4-d weight",
            weight.key, weight.shape
        ));
    }
    Ok(weight.clone())
}

fn norm(module: &str, params: &BTreeMap<String, Entry>) -> Result<Norm, String> {
    for p in ["weight", "bias", "running_mean", "running_var"] {
        if !params.contains_key(p) {
            return Err(format!("'main.{module}': a BatchNorm without '{p}'"));
        }
    }
    Ok(Norm {
        module: module.to_string(),
        params: params
            .iter()
            .filter(|(p, _)| p.as_str() != "num_batches_tracked")
            .map(|(p, e)| (p.clone(), e.clone()))
            .collect(),
    })
}

/// pytorch/examples: modules numbered in order; each BatchNorm follows its convolution.
fn examples_chain(modules: &Modules, role: Role) -> Result<Network, String> {
    let mut numbered: Vec<(usize, &String)> = Vec::new();
    for module in modules.keys() {
        let index = module
            .parse::<usize>()
            .map_err(|_| format!("'main.{module}': not a numbered layer"))?;
        numbered.push((index, module));
    }
    numbered.sort();
    let mut chain: Vec<Layer> = Vec::new();
    for (_, module) in numbered {
        let params = &modules[module];
        if is_norm(params) {
            let last = chain
                .last_mut()
                .filter(|l| l.norm.is_none())
                .ok_or_else(|| {
                    format!("'main.{module}': a BatchNorm with no convolution before it")
                })?;
            last.norm = Some(norm(module, params)?);
        } else {
            chain.push(Layer {
                weight: conv_weight(module, params)?,
                norm: None,
            });
        }
    }
    Ok(Network {
        role,
        chain,
        extras: Vec::new(),
    })
}

/// WassersteinGAN: stages named `initial`, `pyramid`, `extra-layers-{t}`, `final`; a
/// BatchNorm is named by its stage and width (`pyramid.{c}.batchnorm`).
fn wasserstein_chain(modules: &Modules, role: Role) -> Result<Network, String> {
    // (stage, t, weight) for convolutions; (stage, t, channels) → BatchNorm.
    let mut convs: Vec<(String, usize, Entry)> = Vec::new();
    let mut norms: BTreeMap<(String, usize, usize), Norm> = BTreeMap::new();
    for (module, params) in modules {
        let stage = module.split('.').next().unwrap_or_default();
        let (stage, t) = match stage.strip_prefix("extra-layers-") {
            Some(t) => (
                "extra",
                t.parse::<usize>()
                    .map_err(|_| format!("'main.{module}': an extra layer without its number"))?,
            ),
            None => (stage, 0),
        };
        if !["initial", "pyramid", "extra", "final"].contains(&stage) {
            return Err(format!(
                "'main.{module}': expected a WassersteinGAN stage (initial, pyramid, extra-layers-N, final)"
            ));
        }
        if is_norm(params) {
            let n = norm(module, params)?;
            let c = n.channels().unwrap_or(0);
            norms.insert((stage.to_string(), t, c), n);
        } else {
            convs.push((stage.to_string(), t, conv_weight(module, params)?));
        }
    }
    // Out-channels of a weight: dim 1 of a transposed convolution's, dim 0 of a convolution's.
    let out_of = |stage: &str, e: &Entry| match (role, stage) {
        (Role::Generator, "extra") | (Role::Critic, _) => e.shape[0],
        (Role::Generator, _) => e.shape[1],
    };
    let in_of = |stage: &str, e: &Entry| match (role, stage) {
        (Role::Generator, "extra") | (Role::Critic, _) => e.shape[1],
        (Role::Generator, _) => e.shape[0],
    };
    let rank = |stage: &str| match (role, stage) {
        (_, "initial") => 0,
        (Role::Generator, "pyramid") | (Role::Critic, "extra") => 1,
        (Role::Generator, "extra") | (Role::Critic, "pyramid") => 2,
        _ => 3,
    };
    // The pyramid narrows in a generator and widens in a critic: order it by width.
    convs.sort_by_key(|(stage, t, e)| {
        let width = in_of(stage, e);
        let along = if role == Role::Generator && stage == "pyramid" {
            usize::MAX - width
        } else {
            width
        };
        (rank(stage), *t, along)
    });
    let mut network = Network {
        role,
        chain: Vec::new(),
        extras: Vec::new(),
    };
    for (stage, t, weight) in convs {
        let out = out_of(&stage, &weight);
        let layer = Layer {
            norm: norms.remove(&(stage.clone(), t, out)),
            weight,
        };
        if stage == "extra" {
            network.extras.push(layer);
        } else {
            network.chain.push(layer);
        }
    }
    if let Some(n) = norms.values().next() {
        return Err(format!(
            "'main.{}': a BatchNorm no convolution of that width comes before",
            n.module
        ));
    }
    Ok(network)
}

/// Reads one network's keys (relative to its `main.`) as `role`.
pub fn read_network(entries: &[Entry], role: Role) -> Result<Network, String> {
    let modules = modules(entries)?;
    let numbered = modules.keys().all(|m| m.parse::<usize>().is_ok());
    let network = if numbered {
        examples_chain(&modules, role)?
    } else {
        wasserstein_chain(&modules, role)?
    };
    if network.chain.len() < 2 {
        return Err("fewer than two convolutions: not a DCGAN".into());
    }
    Ok(network)
}

fn expect_shape(e: &Entry, expected: [usize; 4], what: &str) -> Result<(), String> {
    if e.shape == expected {
        Ok(())
    } else {
        Err(format!(
            "'main.{}' has shape {:?}; expected {expected:?} ({what})",
            e.key, e.shape
        ))
    }
}

impl Network {
    /// Checks every shape against DCGAN's rule and says what the network is.
    pub fn shapes(&self) -> Result<Shapes, String> {
        let k = self.chain.len() - 1; // doublings (generator) or halvings (critic)
        let image_size = 4 << k;
        if !IMAGE_SIZES.contains(&image_size) {
            return Err(format!(
                "{} convolutions make {image_size}×{image_size} pictures; hitogata opens {IMAGE_SIZES:?}",
                k + 1
            ));
        }
        if self.extras.len() > MAX_EXTRA_LAYERS {
            return Err(format!(
                "{} extra layers; at most {MAX_EXTRA_LAYERS}",
                self.extras.len()
            ));
        }
        let first = &self.chain[0].weight;
        let last = &self.chain[k].weight;
        let (latent_dim, width, channels) = match self.role {
            Role::Generator => {
                let (nz, top) = (first.shape[0], first.shape[1]);
                let ngf = top >> (k - 1);
                if ngf == 0 || ngf << (k - 1) != top {
                    return Err(format!(
                        "'main.{}' has shape {:?}: {top} feature maps from z, which {} layers \
                         halve {} times; expected a multiple of {}",
                        first.key,
                        first.shape,
                        k + 1,
                        k - 1,
                        1 << (k - 1)
                    ));
                }
                (Some(nz), ngf, last.shape[1])
            }
            Role::Critic => (None, first.shape[0], first.shape[1]),
        };
        if ![1, 3].contains(&channels) || width == 0 {
            return Err(format!(
                "'main.{}' has shape {:?}: pictures of {channels} channels; expected 1 (grey) or 3 (colour)",
                last.key, last.shape
            ));
        }
        for (i, layer) in self.chain.iter().enumerate() {
            let expected = match self.role {
                Role::Generator if i == 0 => continue,
                Role::Generator if i < k => [width << (k - i), width << (k - 1 - i), 4, 4],
                Role::Generator => [width, channels, 4, 4],
                Role::Critic if i == 0 => [width, channels, 4, 4],
                Role::Critic if i < k => [width << i, width << (i - 1), 4, 4],
                Role::Critic => [1, width << (k - 1), 4, 4],
            };
            expect_shape(
                &layer.weight,
                expected,
                &format!("layer {} of {}", i + 1, k + 1),
            )?;
        }
        for layer in &self.extras {
            expect_shape(&layer.weight, [width, width, 3, 3], "an extra 3×3 layer")?;
        }
        let batch_norm = self.batch_norm()?;
        Ok(Shapes {
            latent_dim,
            width,
            image_size,
            channels,
            batch_norm,
            extra_layers: self.extras.len(),
        })
    }

    /// Whether the layers that may have BatchNorm all have it (or none do), with the right
    /// widths.
    fn batch_norm(&self) -> Result<bool, String> {
        let k = self.chain.len() - 1;
        let may_have: Vec<&Layer> = match self.role {
            Role::Generator => self.chain[..k].iter().chain(&self.extras).collect(),
            Role::Critic => self.chain[1..k].iter().chain(&self.extras).collect(),
        };
        let present = may_have.iter().filter(|l| l.norm.is_some()).count();
        let unexpected = match self.role {
            Role::Generator => self.chain[k].norm.as_ref(),
            Role::Critic => self.chain[0].norm.as_ref().or(self.chain[k].norm.as_ref()),
        };
        if let Some(n) = unexpected {
            return Err(format!(
                "'main.{}': a BatchNorm where DCGAN has none",
                n.module
            ));
        }
        if present != 0 && present != may_have.len() {
            return Err("BatchNorm after some layers but not others".into());
        }
        for layer in may_have {
            let (Some(n), out) = (&layer.norm, self.out_channels(&layer.weight)) else {
                continue;
            };
            for e in n.params.values() {
                if e.shape != [out] {
                    return Err(format!(
                        "'main.{}' has shape {:?}; expected [{out}]",
                        e.key, e.shape
                    ));
                }
            }
        }
        Ok(present != 0)
    }

    fn out_channels(&self, weight: &Entry) -> usize {
        let transposed = self.role == Role::Generator && weight.shape[2] == 4;
        weight.shape[usize::from(transposed)]
    }

    /// Each tensor's hitogata name with the key it is read from. A critic's last layer
    /// has a bias in hitogata and none in PyTorch: it is zero (`None` here).
    pub fn names(&self) -> Vec<(String, Option<Entry>)> {
        let mut out = Vec::new();
        let norm_names = |out: &mut Vec<_>, prefix: String, norm: &Norm| {
            for (from, to) in [
                ("weight", "gamma"),
                ("bias", "beta"),
                ("running_mean", "running_mean"),
                ("running_var", "running_var"),
            ] {
                out.push((format!("{prefix}.{to}"), norm.params.get(from).cloned()));
            }
        };
        let k = self.chain.len() - 1;
        let conv = match self.role {
            Role::Generator => "up",
            Role::Critic => "down",
        };
        for (i, layer) in self.chain.iter().enumerate() {
            out.push((
                format!("{conv}{}.weight", i + 1),
                Some(layer.weight.clone()),
            ));
            if let Some(n) = &layer.norm {
                norm_names(&mut out, format!("bn{}", i + 1), n);
            }
        }
        if self.role == Role::Critic {
            out.push((format!("down{}.bias", k + 1), None));
        }
        for (j, layer) in self.extras.iter().enumerate() {
            out.push((format!("extra.{j}.conv.weight"), Some(layer.weight.clone())));
            if let Some(n) = &layer.norm {
                norm_names(&mut out, format!("extra.{j}.bn"), n);
            }
        }
        out
    }
}
