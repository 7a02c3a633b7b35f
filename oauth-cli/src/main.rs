//! `oauth`: see `oauth --help`.

fn main() {
    let code = oauth_cli::run(std::env::args_os(), &mut std::io::stdout(), &mut std::io::stderr());
    std::process::exit(code);
}
