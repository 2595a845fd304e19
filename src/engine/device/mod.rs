//! Choosing where the model runs: a hardware wgpu adapter when there is one, else burn's `flex`
//! CPU backend. Software adapters (Mesa llvmpipe/lavapipe) are ~150× slower than flex, and
//! lavapipe crashes burn 0.22, so `auto` never picks them; `--device wgpu` still can.

#[cfg(feature = "gpu")]
use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, DeviceKind};

pub mod allocator;
pub mod choice;
#[cfg(feature = "remote")]
pub mod remote;

pub use choice::{DeviceChoice, RemoteTarget};

/// Which backend a [`ComputeDevice`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Backend {
    /// wgpu (a GPU, or a software rasteriser when forced).
    Wgpu,
    /// burn `flex`, pure-Rust CPU.
    Cpu,
    /// A device on a `hitogata serve` machine.
    Remote,
}

/// A device ready to use, with a human explanation of how it was chosen.
#[derive(Clone, Debug)]
pub struct ComputeDevice {
    /// The burn device (without autodiff).
    pub device: Device,
    /// Its backend.
    pub backend: Backend,
    /// One line for the user: which adapter, and why.
    pub description: String,
}

/// Could not get the requested device.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// wgpu was asked for explicitly and cannot start.
    #[error("cannot start the wgpu device: {0}")]
    Wgpu(String),
    /// The remote server could not be reached or refused us.
    #[error("{0}")]
    Remote(String),
}

/// A wgpu adapter found while probing.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    /// Adapter name, e.g. "NVIDIA H100" or "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// Graphics API ("Vulkan", "Gl", ...).
    pub api: String,
    /// True for a GPU, false for a software (CPU) adapter.
    pub hardware: bool,
}

/// Lists wgpu adapters without touching burn (cheap, never compiles shaders).
#[cfg(feature = "gpu")]
pub fn probe_adapters() -> Vec<AdapterSummary> {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters
        .iter()
        .map(|a| {
            let info = a.get_info();
            AdapterSummary {
                name: info.name.clone(),
                api: format!("{:?}", info.backend),
                hardware: info.device_type != wgpu::DeviceType::Cpu,
            }
        })
        .collect()
}

/// The CPU device, always available.
pub fn cpu_device(reason: &str) -> ComputeDevice {
    ComputeDevice {
        device: Device::flex(),
        backend: Backend::Cpu,
        description: format!("CPU (burn flex){reason}"),
    }
}

/// Without the `gpu` feature (a CPU-only build, such as the fuzz targets') there are none.
#[cfg(not(feature = "gpu"))]
pub fn probe_adapters() -> Vec<AdapterSummary> {
    Vec::new()
}

#[cfg(feature = "gpu")]
fn wgpu_device(kind: DeviceKind) -> Result<Device, String> {
    Device::wgpu_options()
        .device_kind(kind)
        .init()
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "gpu"))]
fn wgpu_device(_kind: DeviceKind) -> Result<Device, String> {
    Err("this build of hitogata has no wgpu (the `gpu` feature)".into())
}

/// Resolves a [`DeviceChoice`] to a usable device.
pub fn select_device(choice: &DeviceChoice) -> Result<ComputeDevice, DeviceError> {
    match choice {
        DeviceChoice::Remote(target) => remote_device(target),
        DeviceChoice::Cpu => Ok(cpu_device(" — chosen with --device cpu")),
        DeviceChoice::Wgpu => {
            let adapters = probe_adapters();
            let hardware = adapters.iter().find(|a| a.hardware);
            let (kind, label) = match hardware {
                Some(a) => (DeviceKind::DefaultDevice, format!("{} ({})", a.name, a.api)),
                None => match adapters.first() {
                    Some(a) => (
                        DeviceKind::Cpu,
                        format!("{} ({}, software adapter: slow)", a.name, a.api),
                    ),
                    None => return Err(DeviceError::Wgpu("no wgpu adapter found".into())),
                },
            };
            let device = wgpu_device(kind.clone())
                .or_else(|first| {
                    if kind == DeviceKind::DefaultDevice {
                        Err(first)
                    } else {
                        wgpu_device(DeviceKind::DefaultDevice).map_err(|_| first)
                    }
                })
                .map_err(DeviceError::Wgpu)?;
            Ok(ComputeDevice {
                device,
                backend: Backend::Wgpu,
                description: format!("wgpu on {label}"),
            })
        }
        DeviceChoice::Auto => {
            let adapters = probe_adapters();
            match adapters.iter().find(|a| a.hardware) {
                Some(a) => match wgpu_device(DeviceKind::DefaultDevice) {
                    Ok(device) => Ok(ComputeDevice {
                        device,
                        backend: Backend::Wgpu,
                        description: format!("wgpu on {} ({})", a.name, a.api),
                    }),
                    Err(e) => Ok(cpu_device(&format!(
                        " — wgpu failed to start on {}: {e}",
                        a.name
                    ))),
                },
                None => {
                    let found = if adapters.is_empty() {
                        "no wgpu adapter at all".to_string()
                    } else {
                        let names: Vec<_> = adapters
                            .iter()
                            .map(|a| format!("{} ({})", a.name, a.api))
                            .collect();
                        format!("only software adapters: {}", names.join(", "))
                    };
                    Ok(cpu_device(&format!(
                        " — no hardware GPU ({found}); use --device wgpu to force wgpu"
                    )))
                }
            }
        }
    }
}

#[cfg(feature = "remote")]
fn remote_device(target: &RemoteTarget) -> Result<ComputeDevice, DeviceError> {
    let device = crate::engine::device::remote::connect(target).map_err(DeviceError::Remote)?;
    let place = crate::engine::device::remote::RemoteAddress::parse(&target.address)
        .map(|a| a.describe())
        .unwrap_or_else(|_| target.address.clone());
    Ok(ComputeDevice {
        device,
        backend: Backend::Remote,
        description: format!("remote server at {place}"),
    })
}

#[cfg(not(feature = "remote"))]
fn remote_device(_target: &RemoteTarget) -> Result<ComputeDevice, DeviceError> {
    Err(DeviceError::Remote(
        "this build of hitogata has no remote backend (the `remote` feature)".into(),
    ))
}
