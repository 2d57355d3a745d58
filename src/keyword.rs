//! `keyword_enum!`: an enum whose variants stand for keywords (SQLite PRAGMA values, URI
//! parameter values), with `as_str`, a case-insensitive `parse` and `Display` generated from one
//! list, so the spelling of each keyword is written once.

/// Declares `pub enum $name` with `as_str(self)`, `pub(crate) fn parse(&str) -> Option<Self>`
/// (any case; `|` adds aliases) and `Display`. Variant attributes (docs, `#[default]`) are kept.
macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $keyword:literal $(| $alias:literal)*, )+
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The keyword.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $keyword, )+
                }
            }

            /// The variant for `text`, in any case (aliases included); `None` for another word.
            pub(crate) fn parse(text: &str) -> Option<Self> {
                match text.to_ascii_lowercase().as_str() {
                    $( $keyword $(| $alias)* => Some(Self::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use keyword_enum;
