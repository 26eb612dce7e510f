//! The page, embedded: the bundle Vite builds into `web/dist` (committed, so building the crate
//! needs no Node; CI rebuilds it from the lockfile and fails when it differs).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("web/dist/index.html");
const APP_JS: &str = include_str!("web/dist/assets/app.js");
const APP_CSS: &str = include_str!("web/dist/assets/app.css");

/// The page's content security policy: its own scripts, styles and media only. Inline style
/// attributes are needed by the canvas library, which positions nodes with them; `unsafe-eval`
/// by Ajv, which compiles each node's schema into a function (the schemas come from this
/// server; no inline or foreign script may run).
const CSP: &str =
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `GET /`: the page.
pub async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-store"),
        ],
        INDEX_HTML,
    )
        .into_response()
}

/// `GET /assets/NAME`: the page's script and styles.
pub async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (content_type, body) = match name.as_str() {
        "app.js" => ("text/javascript; charset=utf-8", APP_JS),
        "app.css" => ("text/css; charset=utf-8", APP_CSS),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The size of the embedded page in bytes (HTML, script and styles).
pub const fn bundle_size() -> usize {
    INDEX_HTML.len() + APP_JS.len() + APP_CSS.len()
}
