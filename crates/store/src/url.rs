//! Database URLs: which backend they name, and how to show them without the password.

use crate::Backend;

/// The backend a URL names, from its scheme.
pub(crate) fn backend_of(url: &str) -> Option<Backend> {
    if url.starts_with("sqlite:") {
        Some(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(Backend::Postgres)
    } else {
        None
    }
}

/// The URL with any password replaced by `***`, fit for error messages and logs: both the
/// `user:password@` form and a `password=` query parameter.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let (head, rest) = url.split_at(scheme_end);
    let query_start = rest.find('?').unwrap_or(rest.len());
    let (before_query, query) = rest.split_at(query_start);
    let mut shown = String::from(head);
    match before_query.rfind('@') {
        Some(at) => {
            let (userinfo, host_and_path) = before_query.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    shown.push_str(user);
                    shown.push_str(":***");
                }
                None => shown.push_str(userinfo),
            }
            shown.push_str(host_and_path);
        }
        None => shown.push_str(before_query),
    }
    let query = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.trim_start_matches('?').eq_ignore_ascii_case("password") => {
                format!("{key}=***")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&");
    shown.push_str(&query);
    shown
}

/// The URL without its query parameter `name`, and that parameter's value if it had
/// one: for the parameters the store reads itself rather than the driver.
pub(crate) fn take_param(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut value = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some((key, v)) if key.eq_ignore_ascii_case(name) => {
                value = Some(v.to_owned());
                false
            }
            _ => !pair.is_empty(),
        })
        .collect();
    if kept.is_empty() {
        (base.to_owned(), value)
    } else {
        (format!("{base}?{}", kept.join("&")), value)
    }
}

/// The password in a URL, if it has one, so it can be scrubbed from driver messages.
pub(crate) fn password(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let before_query = &rest[..rest.find('?').unwrap_or(rest.len())];
    let userinfo = &before_query[..before_query.rfind('@')?];
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_parameters_are_taken_out_of_the_url() {
        assert_eq!(
            take_param("sqlite://a.db?mode=rwc&synchronous=normal", "synchronous"),
            (
                "sqlite://a.db?mode=rwc".to_owned(),
                Some("normal".to_owned())
            )
        );
        assert_eq!(
            take_param("sqlite://a.db?synchronous=full", "synchronous"),
            ("sqlite://a.db".to_owned(), Some("full".to_owned()))
        );
        assert_eq!(
            take_param("sqlite://a.db?mode=rwc", "synchronous"),
            ("sqlite://a.db?mode=rwc".to_owned(), None)
        );
        assert_eq!(
            take_param("sqlite::memory:", "synchronous"),
            ("sqlite::memory:".to_owned(), None)
        );
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://app:s3cr:et@db.internal:5432/regulars"),
            "postgres://app:***@db.internal:5432/regulars"
        );
        assert_eq!(
            redact("postgres://app@db/regulars?sslmode=require&password=hunter2"),
            "postgres://app@db/regulars?sslmode=require&password=***"
        );
        assert_eq!(
            redact("postgresql://db/regulars?password=x"),
            "postgresql://db/regulars?password=***"
        );
        assert_eq!(
            redact("sqlite://regulars.db?mode=rwc"),
            "sqlite://regulars.db?mode=rwc"
        );
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(password("postgres://app:s3cr:et@db/x"), Some("s3cr:et"));
        assert_eq!(password("postgres://app@db/x"), None);
    }

    #[test]
    fn backends_by_scheme() {
        assert_eq!(backend_of("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(backend_of("sqlite://x.db?mode=rwc"), Some(Backend::Sqlite));
        assert_eq!(backend_of("postgres://h/db"), Some(Backend::Postgres));
        assert_eq!(backend_of("postgresql://h/db"), Some(Backend::Postgres));
        assert_eq!(backend_of("mysql://h/db"), None);
        assert_eq!(backend_of("regulars.db"), None);
    }
}
