//! Whether the central platform is reachable, watched continuously.

use leptos::prelude::*;

use crate::platform_client::{HEALTH_PATH, HEALTH_TIMEOUT_MS, check_health};

/// Time between health checks. With the check's own timeout, a change shows within 5 s.
const POLL_INTERVAL_MS: u32 = 2_000;

/// What the app knows about the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformStatus {
    /// No answer yet since start.
    Checking,
    /// The last health check succeeded.
    Online,
    /// The last health check failed: the app works from this device.
    Unreachable,
}

impl PlatformStatus {
    /// A stable name for markup and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformStatus::Checking => "checking",
            PlatformStatus::Online => "online",
            PlatformStatus::Unreachable => "unreachable",
        }
    }
}

/// Starts watching the platform and returns the status signal.
pub fn watch_platform() -> ReadSignal<PlatformStatus> {
    let (status, set_status) = signal(PlatformStatus::Checking);
    leptos::task::spawn_local(async move {
        loop {
            let next = match check_health(HEALTH_PATH, HEALTH_TIMEOUT_MS).await {
                Ok(()) => PlatformStatus::Online,
                Err(_) => PlatformStatus::Unreachable,
            };
            if status.get_untracked() != next {
                set_status.set(next);
            }
            gloo::timers::future::TimeoutFuture::new(POLL_INTERVAL_MS).await;
        }
    });
    status
}
