//! Reason codes as a type: [`Reason`], one variant per stable kebab-case
//! code of docs/json-output.md, declared once with [`reason_codes!`], which
//! gives its `as_str()` and `ALL`, every variant in declaration order. `ALL`
//! and `as_str()` come from the same list, so neither can miss a code. Every
//! public `code` field and `code()` method returns a [`Reason`]; an error
//! type's `code()` maps its variants onto it with a `match` without a
//! wildcard, so a new error variant cannot compile without a code. The
//! documentation test (`tests/cli.rs`) checks every code in `ALL` against
//! docs/json-output.md.
//!
//! The strings are an API (JSON `code` and `reason` fields,
//! docs/json-output.md): never change one. Beside them, [`ErrorClass`]: who
//! has to act on an error.

/// `reason_codes! { /// doc  pub enum Name { /// doc  Variant => "code", … } }`
macro_rules! reason_codes {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $code:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every code, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable kebab-case code.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

reason_codes! {
    /// Why something was refused or failed: every reason, requirement,
    /// finding and error code imgsig writes, as documented in
    /// docs/json-output.md. Each variant's doc says where the code appears:
    /// a signature object's `reason` (signature), a requirement object's
    /// `reason` (requirement), a `policy check` finding (finding), an error
    /// document's `error.code` (error, with its exit code).
    ///
    /// Serialises as [`Reason::as_str`]; compares equal to that string.
    #[non_exhaustive]
    pub enum Reason {
        /// Signature: the signature file is empty.
        EmptySignature => "empty-signature",
        /// Signature: the signature file is over the 4 MiB limit (not read further); requirement: `signedBy`: a
        /// signature read over HTTP(S) is larger than 4 MiB, so the image's signatures cannot be read (a local file
        /// over the limit is one rejected signature with this code).
        SignatureTooLarge => "signature-too-large",
        /// Signature: not a binary OpenPGP message (e.g. armored or cleartext-signed), by containers/image's first-byte
        /// check.
        UnrecognizedFormat => "unrecognized-format",
        /// Signature: not a valid OpenPGP signed message: bad packets, wrong packet order, trailing data, …
        MalformedSignature => "malformed-signature",
        /// Signature: the message is encrypted; a signature must be a plain signed message.
        EncryptedMessage => "encrypted-message",
        /// Signature: the message carries no signature (e.g. a bare literal data packet).
        NotSigned => "not-signed",
        /// Signature: a detached signature, without the signed claim.
        DetachedSignature => "detached-signature",
        /// Signature: more than one signature in the message; exactly one is allowed.
        MultipleSignatures => "multiple-signatures",
        /// Signature: more than one compression layer.
        NestedMessage => "nested-message",
        /// Signature: the signed content is over 64 KiB: not a claim.
        PayloadTooLarge => "payload-too-large",
        /// Signature: signed by a key that is not among the trusted keys.
        UnknownKey => "unknown-key",
        /// Signature: the signature uses a broken hash algorithm (MD5, SHA-1, RIPEMD-160).
        WeakHashAlgorithm => "weak-hash-algorithm",
        /// Signature: the signing key or its certificate has expired (at signing time or now); finding: an expired
        /// certificate.
        ExpiredKey => "expired-key",
        /// Signature: the signing key or its certificate is revoked; finding: a revoked certificate.
        RevokedKey => "revoked-key",
        /// Signature: the key is not valid for signing (key flags, binding, policy).
        NotSigningKey => "not-signing-key",
        /// Signature: the signature itself has expired.
        ExpiredSignature => "expired-signature",
        /// Signature: the signature was made more than 5 minutes in the future.
        FutureSignature => "future-signature",
        /// Signature: the signature does not match the signed content: it or the content was modified.
        BadSignature => "bad-signature",
        /// Signature: the signed content is not a valid simple-signing claim (not JSON, unknown, duplicate or missing
        /// keys, wrong types, …).
        MalformedClaim => "malformed-claim",
        /// Signature: policy mode: the manifest's digest cannot be computed, so no signature can match.
        ManifestDigestError => "manifest-digest-error",
        /// Signature: the claim names another manifest digest.
        DigestMismatch => "digest-mismatch",
        /// Signature: the claim's docker reference is not a valid reference.
        InvalidSignedIdentity => "invalid-signed-identity",
        /// Signature: the claim's identity does not match: keyring mode, it is not equal to `--identity` after
        /// normalisation; policy mode, the requirement's `signedIdentity` rule rejects it.
        IdentityMismatch => "identity-mismatch",
        /// Signature: the signature JSON, the payload JSON or the signature's base64 is invalid, or the payload's type
        /// is not `cosign container image signature`; requirement: a stored `\0sigstore-json\n` blob is not valid
        /// sigstore JSON, so the image's signatures cannot be read (as `unrecognized-signature-blob`).
        SigstoreMalformed => "sigstore-malformed",
        /// Signature: the payload and annotations exceed the 4 MiB limit.
        SigstoreTooLarge => "sigstore-too-large",
        /// Signature: a required annotation is absent: the signature, the Rekor bundle (with Rekor keys), the
        /// certificate (Fulcio, pki).
        SigstoreMissingAnnotation => "sigstore-missing-annotation",
        /// Signature: no trusted key verifies the signature over the payload (another key, or the payload or signature
        /// was modified).
        SigstoreBadSignature => "sigstore-bad-signature",
        /// Signature: the Rekor SET does not verify with the Rekor keys, or does not bind this signature, key or
        /// certificate and payload.
        SigstoreRekorInvalid => "sigstore-rekor-invalid",
        /// Signature: the certificate or its chain does not parse, does not chain to the CA at the Rekor-attested time
        /// (Fulcio) or now (pki), or lacks the Fulcio issuer extension.
        SigstoreCertificateInvalid => "sigstore-certificate-invalid",
        /// Signature: the certificate's OIDC issuer, e-mail or host name is not the one the policy requires.
        SigstoreCertificateIdentity => "sigstore-certificate-identity",
        /// Signature: the signature's certificate key does not parse, or is of a type imgsig does not verify with
        /// (P-224, P-521).
        SigstoreKeyInvalid => "sigstore-key-invalid",
        /// Signature: the signature's certificate key does not parse, or is of a type imgsig does not verify with
        /// (P-224, P-521).
        SigstoreUnsupportedKey => "sigstore-unsupported-key",
        /// Signature: cannot come from a policy imgsig loaded (the parser refuses those policies, and attachments that
        /// are not signatures are skipped): library callers building trust roots themselves.
        SigstoreRekorRequired => "sigstore-rekor-required",
        /// Signature: cannot come from a policy imgsig loaded (the parser refuses those policies, and attachments that
        /// are not signatures are skipped): library callers building trust roots themselves.
        SigstoreRekorNotAllowed => "sigstore-rekor-not-allowed",
        /// Signature: cannot come from a policy imgsig loaded (the parser refuses those policies, and attachments that
        /// are not signatures are skipped): library callers building trust roots themselves.
        SigstoreRekorKeyNotEcdsa => "sigstore-rekor-key-not-ecdsa",
        /// Signature: cannot come from a policy imgsig loaded (the parser refuses those policies, and attachments that
        /// are not signatures are skipped): library callers building trust roots themselves.
        SigstoreTrustRootInvalid => "sigstore-trust-root-invalid",
        /// Signature: cannot come from a policy imgsig loaded (the parser refuses those policies, and attachments that
        /// are not signatures are skipped): library callers building trust roots themselves.
        SigstoreNotASignature => "sigstore-not-a-signature",
        /// Signature: the requirement's key material (a key file, CA bundle or Rekor key) cannot be read or parsed:
        /// every sigstore signature the requirement judges is rejected with it, as containers/image does; requirement:
        /// `signedBy`, `sigstoreSigned`: a key file is missing or unreadable (a readable file that holds no key is only
        /// a warning, as in containers/image); finding: a key file that is missing or unreadable; for `sigstoreSigned`
        /// also key material that does not parse.
        KeyUnusable => "key-unusable",
        /// Requirement: the requirement is `reject`.
        PolicyReject => "policy-reject",
        /// Requirement: a signature was required, but the image has none (for `sigstoreSigned`: no sigstore signature;
        /// the message counts the simple-signing signatures and other sigstore attachments found).
        NoSignatures => "no-signatures",
        /// Requirement: `signedBy`, `sigstoreSigned`: none of the signatures was accepted (each signature object says
        /// why).
        NoValidSignature => "no-valid-signature",
        /// Requirement: `signedBy`: no key at all was imported (the key files or data hold no certificate); finding: a
        /// requirement left with no key at all.
        NoKeys => "no-keys",
        /// Requirement: `signedBy`: a stored signature blob is empty or in no format containers/image knows (first
        /// byte), so the image's signatures cannot be read and the image is rejected even beside a good signature; the
        /// message names the blob.
        UnrecognizedSignatureBlob => "unrecognized-signature-blob",
        /// Requirement: `signedBy`: a `keyType` other than `GPGKeys`; finding: a `keyType` other than `GPGKeys` (always
        /// rejects).
        UnsupportedKeyType => "unsupported-key-type",
        /// Requirement: `signedBaseLayer`: not implemented (by containers/image either); finding: a `signedBaseLayer`
        /// requirement (always rejects).
        UnsupportedRequirement => "unsupported-requirement",
        /// Finding: `default` is `insecureAcceptAnything`.
        InsecureDefault => "insecure-default",
        /// Finding: a docker scope like `busybox`, which matches only a registry host of that name.
        ShortNameScope => "short-name-scope",
        /// Finding: a docker scope like `docker.io/busybox`, which never matches.
        NonNormalizedScope => "non-normalized-scope",
        /// Finding: a `matchRepository` or `exactRepository` identity: any signed tag of the repository is accepted.
        RollbackRisk => "rollback-risk",
        /// Finding: a `keyPath` or `keyPaths` entry that is a relative path: it is read from the working directory of
        /// whoever runs the check (as containers/image does), so whoever controls that directory chooses the trusted
        /// key; the message names the absolute path it resolved to.
        RelativeKeyPath => "relative-key-path",
        /// Finding: a key file (or `keyData`) that is read but holds no usable key: ignored, as containers/image
        /// (gpgme) ignores it.
        KeyFileNoKeys => "key-file-no-keys",
        /// Finding: a certificate that is not valid under the OpenPGP policy; error, exit 2: the `--key` file is
        /// unusable: not OpenPGP, several secret keys, no valid signing key; the `--sigstore-key` file is not an
        /// encrypted cosign/sigstore private key (the message says which flag an OpenPGP key goes with), or its
        /// encrypted document is malformed.
        InvalidKey => "invalid-key",
        /// Finding: a certificate without a valid signing-capable (sub)key.
        NoSigningKey => "no-signing-key",
        /// Error, exit 2: arguments that do not fit together (checked by imgsig after clap), e.g. `--keyring` without
        /// `--manifest`, stdin used twice.
        Usage => "usage",
        /// Error, exit 2: flags that contradict each other, e.g. `sign --output json` without `-o FILE`, `completions
        /// --output json`.
        ConflictingFlags => "conflicting-flags",
        /// Error, exit 2: `sign` would write a binary signature to a terminal.
        TerminalOutput => "terminal-output",
        /// Error, exit 2: an input file or directory is missing, unreadable or a directory.
        UnreadableInput => "unreadable-input",
        /// Error, exit 2: an input file (manifest, key, policy, passphrase) is over its size limit.
        InputTooLarge => "input-too-large",
        /// Error, exit 2: the output file cannot be created (missing directory, permission).
        UnwritableOutput => "unwritable-output",
        /// Error, exit 2: `sign --lookaside-dir`, `sign` into a registries.d `lookaside-staging`, `fetch --to`: the
        /// image's directory name (`<last repository component>@sha256=<hex>`) or path is longer than the filesystem
        /// allows (ENAMETOOLONG); nothing is left behind, not even the directories made on the way.
        NameTooLong => "name-too-long",
        /// Error, exit 2: `sign --lookaside-dir`, `sign` into a registries.d `lookaside-staging`, `fetch --to`: a
        /// symbolic link inside the tree (below the directory named), at a directory or at a file name imgsig would
        /// write or compare; nothing is written (replace the link with a real directory).
        UnsafePath => "unsafe-path",
        /// Error, exit 2: the output file exists and `--force` was not given (it is left unchanged); `generate-key`:
        /// `PREFIX.private` or `PREFIX.pub` exists (neither is written).
        OutputExists => "output-exists",
        /// Error, exit 2: `--identity` or the image is not a valid image reference (or, for `sign`, has neither tag nor
        /// digest).
        InvalidReference => "invalid-reference",
        /// Error, exit 2: `--digest` is not `sha256:` + 64 lowercase hex digits.
        InvalidDigest => "invalid-digest",
        /// Error, exit 2: keyring mode and `sign`: the manifest's digest cannot be computed.
        InvalidManifest => "invalid-manifest",
        /// Error, exit 2: a `--keyring` file is not an OpenPGP keyring.
        InvalidKeyring => "invalid-keyring",
        /// Error, exit 2: `--sigstore-key`: a well-formed key of a kind or with parameters imgsig does not sign with
        /// (another KDF or cipher, scrypt parameters beyond the bounds in docs/security.md, a curve other than
        /// P-256/P-384).
        UnsupportedKey => "unsupported-key",
        /// Error, exit 2: `sign --sigstore-key docker://…` without `--lookaside-dir`: registries.d does not set
        /// `use-sigstore-attachments: true` for the image, so the signature has nowhere to go (readers would not look
        /// either).
        SigstoreAttachmentsDisabled => "sigstore-attachments-disabled",
        /// Error, exit 2: the `--key` file holds only a public key.
        NotASecretKey => "not-a-secret-key",
        /// Error, exit 2: `sign --sign-by`: no secret key in the GnuPG keyring matches (or only the public key is
        /// there); retrying cannot help.
        NoSecretKey => "no-secret-key",
        /// Error, exit 2: `sign --sign-by`: the selector matches several secret keys (the message lists them by
        /// fingerprint and user ID).
        AmbiguousKey => "ambiguous-key",
        /// Error, exit 2: `sign --sign-by`: the selected key cannot sign (expired, revoked, no signing-capable subkey).
        UnusableSigningKey => "unusable-signing-key",
        /// Error, exit 2: the secret key is protected and no passphrase was given (a sigstore key: it does not open
        /// with the empty passphrase cosign allows); `generate-key`: no passphrase given (an empty file gives none).
        PassphraseNeeded => "passphrase-needed",
        /// Error, exit 2: the passphrase does not unlock the key.
        WrongPassphrase => "wrong-passphrase",
        /// Error, exit 2: the passphrase file is not UTF-8.
        InvalidPassphrase => "invalid-passphrase",
        /// Error, exit 2: the policy file is not a valid containers-policy.json (the message lists every problem with
        /// its JSON path and line:column).
        InvalidPolicy => "invalid-policy",
        /// Error, exit 2: no `--policy` and no default policy file exists.
        NoPolicy => "no-policy",
        /// Error, exit 2: a signature directory holds a `signature-128` (128 or more signatures: unreasonable, as in
        /// containers/image).
        TooManySignatures => "too-many-signatures",
        /// Error, exit 1: policy mode: the image reference names a digest and the manifest has another (in verify, a
        /// requirement object of type `image`); error, exit 1: online: the registry served bytes that do not hash to
        /// the requested digest (in verify, the image document's `rejection`).
        ManifestDigestMismatch => "manifest-digest-mismatch",
        /// Error, exit 2: `--lookaside` is not a file://, http:// or https:// URL or a directory path.
        InvalidLookaside => "invalid-lookaside",
        /// Error, exit 2: `--creds` is not `USER:PASSWORD`.
        InvalidCreds => "invalid-creds",
        /// Error, exit 2: an auth.json file cannot be read or is not valid JSON.
        InvalidAuthfile => "invalid-authfile",
        /// Error, exit 2: a certs.d directory is unusable (e.g. a `.cert` without its `.key`); for a `--cert-dir DIR`
        /// also a `.crt` holding no PEM certificate or a damaged one, a dangling or unreadable `.crt`, or an unreadable
        /// directory.
        InvalidCertDir => "invalid-cert-dir",
        /// Error, exit 2: a registries.d YAML file is invalid, or its lookaside URL is.
        InvalidRegistriesD => "invalid-registries-d",
        /// Error, exit 1: a multi-platform image has no instance for this machine (use `--all-platforms`); in verify,
        /// the image document's `rejection`.
        NoMatchingPlatform => "no-matching-platform",
        /// Error, exit 1: `verify --require-signature` ([`crate::verify::Options::require_signature`]): the policy
        /// accepted the image, but no signature was cryptographically verified for one of the manifests judged (e.g.
        /// a scope of `insecureAcceptAnything`); in verify, the image document's `rejection`.
        NoSignatureChecked => "no-signature-checked",
        /// Error, exit 1 / 2: the manifest repeats a member in some object (exactly, or differing only in case, which
        /// Go's encoding/json reads as the same field; `annotations` keys are compared exactly); the message names the
        /// member's JSON path and line:column. Exit 1 when judged or read from a registry (verify's image document
        /// `rejection`, any source; `fetch` and `sign docker://` do not mirror or sign it), exit 2 for `sign --manifest
        /// FILE`. See formats.md.
        ManifestDuplicateMember => "manifest-duplicate-member",
        /// Error, exit 1 / 2: the manifest is JSON Go's encoding/json would read but imgsig's strict reader cannot
        /// (nesting deeper than 64 levels, an unpaired `\uD800`-style surrogate escape), so repeated members cannot be
        /// ruled out; exit codes as for `manifest-duplicate-member`.
        ManifestNotStrictJson => "manifest-not-strict-json",
        /// Error, exit 2: a registries.conf file (or drop-in, or `CONTAINERS_REGISTRIES_CONF`) is missing where named,
        /// or invalid (the message names the file).
        InvalidRegistriesConf => "invalid-registries-conf",
        /// Error, exit 2: registries.conf marks the registry `blocked = true`.
        RegistryBlocked => "registry-blocked",
        /// Error, exit 3: a `credHelpers`/`credsStore` helper (`docker-credential-NAME get`) failed, timed out or
        /// answered malformed JSON (the message names the helper and the auth file).
        CredentialHelperFailed => "credential-helper-failed",
        /// Error, exit 3: connecting, TLS, or reading a response failed (includes time-outs).
        NetworkError => "network-error",
        /// Error, exit 3: the registry answered 401/403: credentials missing or wrong.
        RegistryUnauthorized => "registry-unauthorized",
        /// Error, exit 2: the registry answered 404 (a mistyped name or tag: retrying cannot help).
        NotFound => "not-found",
        /// Error, exit 3: any other unexpected HTTP status from a registry or lookaside.
        RegistryError => "registry-error",
        /// Error, exit 3: a manifest, token or signature list exceeded its size limit (4 MiB).
        ResponseTooLarge => "response-too-large",
        /// Error, exit 3: a malformed answer (token, signature list).
        RegistryProtocolError => "registry-protocol-error",
        /// Error, exit 3: the lookaside cannot be read (unsupported scheme, more than 128 signatures, I/O).
        LookasideError => "lookaside-error",
        /// Error, exit 2: mirror (bulk and `--offline`): the mirror has no `manifest.json` for the image.
        MissingManifest => "missing-manifest",
        /// Error, exit 2: `verify --manifest` under a policy that needs signatures, with no signature files,
        /// `--signatures` or `--lookaside`, and no registries.d lookaside for the image.
        NoSignatureSource => "no-signature-source",
        /// Error, exit 2: the manifest is a multi-platform index and its instances' signatures cannot be among the
        /// signature files or `--signatures DIR` given (use a mirror, `dir:` or `docker://`, or give the instance's
        /// manifest).
        InstanceSignaturesUnavailable => "instance-signatures-unavailable",
        /// Error, exit 2: the image has no docker reference to look signatures up by (a `dir:` image without
        /// `--identity` and a lookaside).
        IdentityRequired => "identity-required",
        /// Error, exit 2: the image names a transport imgsig does not read (`docker-archive:`, `docker-daemon:`,
        /// `containers-storage:`, …); copy it into an `oci:` layout with skopeo first.
        UnsupportedTransport => "unsupported-transport",
        /// Error, exit 2: an `oci:` / `oci-archive:` image is not a readable OCI layout (no or invalid `index.json`,
        /// a missing or mis-sized manifest blob, a damaged or compressed archive).
        InvalidOciLayout => "invalid-oci-layout",
        /// Error, exit 2: the OCI layout has no image by that name (`org.opencontainers.image.ref.name`), or several
        /// images and none was named.
        OciImageNotFound => "oci-image-not-found",
        /// Error, exit 2: library use: a registry image or an http(s) lookaside was requested without a network
        /// configuration.
        NetworkRequired => "network-required",
        /// Error, exit 2: `--offline` (verify, sign) and something that would need the network: a `docker://` image
        /// without a local `--lookaside DIR` mirror, an http(s) lookaside (given, or the registries.d lookaside of the
        /// image), signing `docker://` images; the message names it. Nothing was read.
        OfflineNetworkRequired => "offline-network-required",
        /// Error, exit 2: a mirror image named by tag (`verify --offline docker://REF:TAG`, or a `name:tag` line of the
        /// bulk form) has no tag record in the mirror: `imgsig fetch` never fetched that tag (the message names the
        /// record file looked for).
        NotInMirror => "not-in-mirror",
        /// Error, exit 2: the mirror's tag record for the image is not a record `imgsig fetch` writes (malformed,
        /// unknown schema, over 1 MiB).
        InvalidTagRecord => "invalid-tag-record",
        /// Error, exit 2: the mirror's tag record names another registry's image with the same repository path.
        TagRecordMismatch => "tag-record-mismatch",
        /// Error, exit 3: `fetch`: the registry (or its lookaside) has a signature for the image that could not be
        /// stored in the mirror (over the 4 MiB limit); the image counts as failed and its tag record is not written
        /// (`signatures_skipped` names the signature).
        SignatureNotMirrored => "signature-not-mirrored",
        /// Error, exit 2: `trust set`: the scope is not a scope that can match an image (e.g. a short name).
        InvalidScope => "invalid-scope",
        /// Error, exit 2: `trust set`: the policy has no `default` (set it first with `trust set … default`).
        NoDefaultPolicy => "no-default-policy",
        /// Error, exit 1: `sign --sign-cmd`: the command's signature is valid but covers other content than the claim.
        ClaimMismatch => "claim-mismatch",
        /// Error, exit 3: reading or writing failed for another reason (disk full, EIO, closed stdout while writing a
        /// signature).
        IoError => "io-error",
        /// Error, exit 3: the crypto backend failed, or the new signature did not verify.
        SigningFailed => "signing-failed",
        /// Error, exit 3: `generate-key`, `sign --sigstore-key`: the operating system's random number generator failed.
        NoRandomness => "no-randomness",
        /// Error, the command's exit code: the command's document could not be serialised (a bug); this document then
        /// has only `schema_version` and `error`.
        Internal => "internal",
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Reason> for &str {
    fn eq(&self, other: &Reason) -> bool {
        *self == other.as_str()
    }
}

/// Who has to act.
///
/// Exhaustive on purpose: the three classes are the documented exit codes
/// (2 input, 3 outside, 1 rejected), which are a stable contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request is unusable (a missing file, a bad reference, no
    /// signature source, an invalid configuration): retrying cannot help.
    Input,
    /// Something outside failed (I/O, network, a server): retrying may help.
    Outside,
    /// The image itself must not be used (a registry sent a manifest that is
    /// refused): only where no report carries the rejection, as in
    /// [`crate::fetch`]; a verification reports it instead.
    Rejected,
}
