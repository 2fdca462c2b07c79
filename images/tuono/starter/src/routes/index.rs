use serde::Serialize;
use tuono_lib::{Props, Request, Response};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IndexProps {
    greeting: &'static str,
    served_by: String,
}

/// The props of `/`, computed in Rust on each request and rendered by index.tsx.
#[tuono_lib::handler]
async fn get_server_side_props(_request: Request) -> Response {
    Response::Props(Props::new(IndexProps {
        greeting: "Hello, world, from Tuono!",
        served_by: format!("axum on {}", std::env::consts::OS),
    }))
}
