//! `hlaudit completions SHELL`: shell completion scripts.

use std::io::Write;

use anyhow::Result;
use clap::{Args as ClapArgs, CommandFactory};
use clap_complete::Shell;

use crate::exit::Outcome;
use crate::stdio;

/// Print a shell completion script.
#[derive(Debug, ClapArgs)]
#[command(after_help = "Examples:\n  \
    hlaudit completions bash > /etc/bash_completion.d/hlaudit\n  \
    hlaudit completions zsh > \"${fpath[1]}/_hlaudit\"\n  \
    hlaudit completions fish > ~/.config/fish/completions/hlaudit.fish")]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
}

/// Writes the completion script for `C` to stdout.
pub fn run<C: CommandFactory>(args: &Args) -> Result<Outcome> {
    let mut cmd = C::command();
    // Into memory first: the generators panic on any write error.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "hlaudit", &mut script);
    stdio::stdout().write_all(&script)?;
    Ok(Outcome::Clean)
}
