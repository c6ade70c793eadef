//! `imgsig inspect` of a typed sigstore blob, for people: the library's
//! description ([`imgsig::inspect::SigstoreDoc`]) as text.

use imgsig::inspect::SigstoreDoc;

/// The human description's lines after the status line.
pub fn human(d: &SigstoreDoc, line: &mut dyn FnMut(&str, String)) {
    let yes = |b: bool| if b { "present" } else { "absent" };
    line(
        "format",
        format!(
            "sigstore signature (typed blob, {}{})",
            super::inspect_text::quoted(&d.mime_type),
            if d.is_signature {
                ""
            } else {
                ", not a signature: an attachment"
            }
        ),
    );
    match (&d.claim, &d.claim_error) {
        (Some(c), _) => {
            line("identity", super::inspect_text::quoted(&c.identity));
            line("digest", super::inspect_text::quoted(&c.digest));
            line(
                "creator",
                c.creator
                    .as_deref()
                    .map(super::inspect_text::quoted)
                    .unwrap_or_else(|| "(none)".into()),
            );
            line("timestamp", super::inspect_text::timestamp(c.timestamp));
        }
        (None, Some(e)) => line("claim", format!("not a valid sigstore payload: {}", e.escape_debug())),
        (None, None) => {}
    }
    line("payload", format!("{} bytes", d.payload_length));
    line("key", d.key_hint.clone());
    line("signature", yes(d.signature_present).into());
    line(
        "cert",
        format!("{}{}", yes(d.certificate), if d.chain { ", with a chain" } else { "" }),
    );
    line("rekor", format!("{} (SET bundle)", yes(d.rekor_bundle)));
}
