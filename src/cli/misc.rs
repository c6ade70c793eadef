//! `imgsig completions` and `imgsig man`: generated from the clap definition.

use imgsig::Reason;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::io::{write_atomic, write_stdout};
use super::{Cli, Exit, Failure, OutputFormat};

pub const COMPLETIONS_EXAMPLES: &str = "EXAMPLES:
  imgsig completions bash > /etc/bash_completion.d/imgsig
  imgsig completions zsh > \"${fpath[1]}/_imgsig\"
  imgsig completions fish > ~/.config/fish/completions/imgsig.fish";

pub const MAN_EXAMPLES: &str = "EXAMPLES:
  imgsig man | man -l -
  imgsig man --dir /usr/local/share/man/man1";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write imgsig.1 and one imgsig-COMMAND.1 page per command into DIR
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

fn reject_json(format: OutputFormat, what: &str) -> Result<(), Failure> {
    if format == OutputFormat::Json {
        return Err(Failure::input(
            Reason::ConflictingFlags,
            anyhow!("{what} writes a text document to stdout; --output json does not apply"),
        ));
    }
    Ok(())
}

pub fn completions(args: CompletionsArgs, format: OutputFormat) -> Result<Exit, Failure> {
    reject_json(format, "completions")?;
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "imgsig", &mut out);
    write_stdout(&out).map_err(|e| Failure::outside(Reason::IoError, anyhow!("writing to stdout: {e}")))?;
    Ok(Exit::Ok)
}

fn render(cmd: clap::Command) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| Failure::outside(Reason::IoError, anyhow!("rendering the man page: {e}")))?;
    Ok(out)
}

/// Every (sub)command with its page name: imgsig, imgsig-sign, imgsig-policy-check, …
fn pages(cmd: &clap::Command, name: &str, out: &mut Vec<(String, clap::Command)>) {
    let page = cmd
        .clone()
        .name(name.to_owned())
        .bin_name(name.replace('-', " "))
        .version(env!("CARGO_PKG_VERSION"));
    out.push((name.to_owned(), page));
    for sub in cmd.get_subcommands() {
        pages(sub, &format!("{name}-{}", sub.get_name()), out);
    }
}

pub fn man(args: ManArgs, format: OutputFormat) -> Result<Exit, Failure> {
    reject_json(format, "man")?;
    let mut cmd = Cli::command();
    // Subcommands' arguments (and nested subcommands) are deferred until built.
    cmd.build();
    match args.dir {
        None => {
            let page = render(cmd)?;
            write_stdout(&page).map_err(|e| Failure::outside(Reason::IoError, anyhow!("writing to stdout: {e}")))?;
        }
        Some(dir) => {
            let mut all = Vec::new();
            pages(&cmd, "imgsig", &mut all);
            for (name, page) in all {
                write_atomic(&dir.join(format!("{name}.1")), &render(page)?, true)?;
            }
            eprintln!("imgsig: man pages written to {}", dir.display());
        }
    }
    Ok(Exit::Ok)
}
