//! Reason codes as types: [`reason_codes!`] declares an enum with one
//! variant per stable kebab-case code, its `as_str()`, and `ALL`, every
//! variant in declaration order. `ALL` and `as_str()` come from the same
//! list, so neither can miss a code; an error type's `reason()` maps its
//! variants onto the enum with a `match` without a wildcard, so a new error
//! variant cannot compile without a code. The documentation test
//! (`tests/cli.rs`) checks every code in `ALL` against docs/json-output.md.
//!
//! The strings are an API (JSON `code` fields, docs/json-output.md): never
//! change one. Beside them, [`ErrorClass`]: who has to act on an error.

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

/// Who has to act.
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
