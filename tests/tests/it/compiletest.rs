//! Compile-fail cases (`ui/`, one mistake per file, each with its reviewed `.stderr`) and
//! pass cases (`pass/`). Regenerate the expected output with `TRYBUILD=overwrite`, then read
//! the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
    cases.pass("pass/*.rs");
}
