//! Reading and writing cookies by hand: the server's actix-web is built without its
//! cookie feature, and the few cookies here need nothing more than this.

use actix_web::HttpRequest;
use actix_web::http::header;

/// The value of cookie `name` sent with the request.
pub fn get(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: path `/`, HttpOnly, SameSite=Strict, `Secure` when asked;
/// `max_age` in seconds (0 deletes the cookie).
pub fn set(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}
