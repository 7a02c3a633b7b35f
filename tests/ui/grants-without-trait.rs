use oauth_client::grants;

fn main() {
    let _ = grants![request_token_ccg];
}
