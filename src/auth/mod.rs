//! Who is calling: passwords, tokens, the signed-in user and their scope.

pub mod current_user;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;
