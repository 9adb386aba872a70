//! Text columns read and written as Rust enums: the column stays `TEXT`
//! (with its CHECK constraint), the Rust side never compares strings. An
//! unknown value in the database is a deserialisation error, never a default.

/// Implements `FromSql`/`ToSql` over `Text`, on every backend, for an enum
/// with `key(self) -> &'static str` and `parse(&str) -> Option<Self>` that
/// derives `FromSqlRow` and `AsExpression` with `sql_type = Text`.
#[macro_export]
macro_rules! text_column {
    ($type:ty) => {
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $type
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(
                        bytes,
                    )?;
                <$type>::parse(&text).ok_or_else(|| {
                    format!("{text:?} is no {}", stringify!($type)).into()
                })
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $type
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.key(),
                    out,
                )
            }
        }
    };
}

/// Declares an enum stored as text: its variants with their keys, `ALL`,
/// `key`, `parse`, and the column impls of `text_column!`.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $key:literal ),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash,
            diesel::deserialize::FromSqlRow, diesel::expression::AsExpression,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            pub fn key(self) -> &'static str {
                match self { $( $name::$variant => $key ),+ }
            }

            pub fn parse(key: &str) -> Option<Self> {
                match key { $( $key => Some($name::$variant), )+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.key())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.key())
            }
        }

        $crate::text_column!($name);
    };
}
