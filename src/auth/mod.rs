//! Who is calling: passwords, tokens, the signed-in user and their scope.

pub mod password;
