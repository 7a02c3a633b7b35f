//! `oauth`: see `oauth --help`.

fn main() -> std::process::ExitCode {
    oauth_cli::Oauth::new().main()
}
