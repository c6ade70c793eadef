//! Offline, where a `docker://` image's mirror is when none is named: the
//! `file://` lookaside registries.d configures for the image (how a site
//! points every reader at the mirror once). An `http(s)://` lookaside would
//! need the network and is refused, never read; neither is the built-in
//! default store, which holds signatures but no manifests.

use std::path::PathBuf;

use reqwest::Url;

use crate::reference::DockerReference;
use crate::store::registries_d::{Access, RegistriesD, Scope};
use crate::Reason;

use super::error::VerifyError;

/// The mirror registries.d names for an image.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfiguredMirror {
    /// The mirror's root directory (the lookaside's path).
    pub root: PathBuf,
    /// The lookaside URL, as configured.
    pub url: Url,
    /// Where it is configured, for people: the key, the section and the file,
    /// e.g. `lookaside of docker: "registry.example.com" in /etc/containers/registries.d/site.yaml`.
    pub configured_in: String,
}

/// The mirror of `r` for a verify without network: the `file://` lookaside
/// registries.d configures for it. No lookaside configured, or an
/// `http(s)://` one, is [`Reason::OfflineNetworkRequired`]; an unusable URL
/// is [`Reason::InvalidRegistriesD`].
pub fn configured_mirror(registries_d: &RegistriesD, r: &DockerReference) -> Result<ConfiguredMirror, VerifyError> {
    let Some(c) = registries_d.configured(r, Access::Read) else {
        return Err(VerifyError::input(
            Reason::OfflineNetworkRequired,
            format!("no local mirror for {r}: registries.d configures no lookaside for it, and without network only a local one can be read"),
        )
        .with_hint("name the mirror's directory, or configure a file:// lookaside for the image in registries.d"));
    };
    let configured_in = format!(
        "{} of {} in {}",
        c.key,
        match c.scope {
            Scope::Docker(s) => format!("docker: {s:?}"),
            Scope::DefaultDocker => "default-docker".to_owned(),
        },
        c.file.display()
    );
    let invalid = |why: String| {
        VerifyError::input(
            Reason::InvalidRegistriesD,
            format!("the registries.d lookaside {:?} of {r} ({configured_in}): {why}", c.url),
        )
    };
    let url = Url::parse(c.url).map_err(|e| invalid(e.to_string()))?;
    if url.scheme() != "file" {
        return Err(VerifyError::input(
            Reason::OfflineNetworkRequired,
            format!("the registries.d lookaside {url} of {r} ({configured_in}) needs the network, and offline only a file:// one is read"),
        ));
    }
    let root = url
        .to_file_path()
        .map_err(|()| invalid("not a local directory".to_owned()))?;
    Ok(ConfiguredMirror {
        root,
        url,
        configured_in,
    })
}
