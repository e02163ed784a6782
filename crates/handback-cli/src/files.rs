//! Reading input files for the library, which does no I/O itself.
//!
//! Text that is not valid UTF-8 is reported with the line and column of the first bad byte, in
//! the same form as every other input problem, rather than as an I/O failure.

use std::path::Path;

use handback::{Diagnostic, Diagnostics, LoadError, SourceFile};

use crate::{Exit, Failure};

/// Reads one file as a [`SourceFile`] named by the path the user gave.
pub fn read_source(path: &Path) -> Result<SourceFile, Failure> {
    let label = path.display().to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| label.clone());
    let text = read_text(path, &label)?;
    Ok(SourceFile { name, label, text })
}

fn read_text(path: &Path, label: &str) -> Result<String, Failure> {
    let bytes =
        std::fs::read(path).map_err(|e| Failure::new(Exit::Io, format!("cannot read `{label}`: {e}")))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(e.as_bytes().get(..valid).unwrap_or(&[])).into_owned();
            let line = prefix.matches('\n').count() + 1;
            let column = prefix.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
            let diagnostic = Diagnostic {
                file: label.to_string(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                column: u32::try_from(column).unwrap_or(u32::MAX),
                path: "$".into(),
                message: format!(
                    "the file is not valid UTF-8 (bad byte at offset {valid}); save it as UTF-8"
                ),
            };
            Err(LoadError {
                diagnostics: Diagnostics(vec![diagnostic]),
            }
            .into())
        }
    }
}

/// Reads every `.json` file under a pack folder, named by its path inside the pack.
pub fn read_pack(dir: &Path) -> Result<Vec<SourceFile>, Failure> {
    if !dir.is_dir() {
        return Err(Failure::new(
            Exit::Io,
            format!(
                "`{}` is not a folder; `--pack` takes a rule pack folder",
                dir.display()
            ),
        ));
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<SourceFile>) -> Result<(), Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::new(Exit::Io, format!("cannot read folder `{}`: {e}", dir.display())))?;
    for entry in entries {
        let path = entry
            .map_err(|e| Failure::new(Exit::Io, format!("cannot read folder `{}`: {e}", dir.display())))?
            .path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let label = path.display().to_string();
            let text = read_text(&path, &label)?;
            out.push(SourceFile { name, label, text });
        }
    }
    Ok(())
}
