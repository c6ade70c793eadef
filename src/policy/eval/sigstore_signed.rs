//! `sigstoreSigned` requirements, evaluated as containers/image's
//! `prSigstoreSigned.isRunningImageAllowed` (the rest of the evaluation is
//! in the parent module).

use super::{decide, identity_rejection, rr, RequirementRejection, SignatureResult, SigstoreInput, Subject};
use crate::policy::{identity, SigstoreSigned};
use crate::signature::Rejection;
use crate::Reason;

/// `sigstoreSigned`, as containers/image's `prSigstoreSigned.isRunningImageAllowed`:
/// simple-signing signatures and sigstore attachments that are not signatures
/// are skipped; one accepted signature suffices.
pub(super) fn evaluate_sigstore(
    ss: &SigstoreSigned,
    subject: &Subject,
) -> (Result<(), RequirementRejection>, Vec<SignatureResult>) {
    let simple = match subject.signatures {
        Ok(s) => s.len(),
        Err(e) => return (Err(e.clone()), Vec::new()),
    };
    let candidates: Vec<(usize, &SigstoreInput)> = subject
        .sigstore
        .iter()
        .enumerate()
        .filter(|(_, s)| s.signature.is_signature())
        .map(|(i, s)| (i + 1, s))
        .collect();
    let other_attachments = subject.sigstore.len() - candidates.len();
    if candidates.is_empty() {
        let found = if simple == 0 && other_attachments == 0 {
            String::new()
        } else {
            format!(" ({simple} non-sigstore signatures, {other_attachments} sigstore non-signature attachments)")
        };
        return (
            Err(rr(
                Reason::NoSignatures,
                format!(
                    "a sigstore signature was required, but no signature exists{found} (looked in {}); it needs one {}",
                    subject.looked_in,
                    ss.describe_trust()
                ),
            )),
            Vec::new(),
        );
    }
    let prepared = crate::policy::sigstore::prepare(ss);
    let results: Vec<SignatureResult> = candidates
        .into_iter()
        .map(|(index, input)| {
            let (result, payload) = match &prepared {
                Err(e) => (
                    Err(Rejection {
                        code: Reason::KeyUnusable,
                        message: e.clone(),
                        signer: None,
                    }),
                    None,
                ),
                Ok(p) => check_sigstore(input, p, ss, subject),
            };
            SignatureResult {
                index,
                source: input.source.clone(),
                result,
                opened: None,
                sigstore: payload,
            }
        })
        .collect();
    decide(results, || format!("a sigstore signature {}", ss.describe_trust()))
}

/// One sigstore signature: the signature (and Rekor, certificate) checks, then
/// the signed digest, then the signed identity (containers/image's order).
fn check_sigstore(
    input: &SigstoreInput,
    p: &crate::policy::sigstore::Prepared,
    ss: &SigstoreSigned,
    subject: &Subject,
) -> (Result<(), Rejection>, Option<crate::sigstore::UntrustedPayload>) {
    let now = crate::time::unix_seconds(subject.now);
    let payload = match crate::sigstore::verify_at(&input.signature, &p.root, &p.rekor, now) {
        Ok(payload) => payload,
        Err(e) => {
            let rejection = Rejection {
                code: e.code,
                message: e.message,
                signer: None,
            };
            return (Err(rejection), None);
        }
    };
    let result = match subject.manifest_digest {
        Err(why) => Err(Rejection {
            code: Reason::ManifestDigestError,
            message: format!("the manifest's digest cannot be computed: {why}"),
            signer: None,
        }),
        Ok(d) if payload.docker_manifest_digest != d.to_string() => Err(Rejection {
            code: Reason::DigestMismatch,
            message: format!(
                "signature is for manifest digest {}, but the manifest's digest is {d}",
                payload.docker_manifest_digest
            ),
            signer: None,
        }),
        Ok(_) => identity::matches(
            &ss.signed_identity,
            subject.image.docker_reference(),
            &payload.docker_reference,
        )
        .map_err(|m| identity_rejection(m, &ss.signed_identity, &payload.docker_reference, subject, None)),
    };
    (result, Some(payload))
}
