//! Reading input files for the library, which does no I/O itself.
//!
//! Text that is not valid UTF-8 is reported with the line and column of the first bad byte, in
//! the same form as every other input problem, rather than as an I/O failure.

use std::path::Path;

use handback::{Diagnostic, Diagnostics, LoadError, SourceFile};

use crate::{Exit, Failure};

/// Why a file could not be handed to the library.
pub enum ReadError {
    /// It could not be read at all.
    Io(Failure),
    /// It was read but is not usable text; each problem located like any other input problem.
    Invalid(Vec<Diagnostic>),
}

impl From<ReadError> for Failure {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(f) => f,
            ReadError::Invalid(diagnostics) => LoadError {
                diagnostics: Diagnostics(diagnostics),
            }
            .into(),
        }
    }
}

/// Reads one file as a [`SourceFile`] named by the path the user gave.
pub fn read_source(path: &Path) -> Result<SourceFile, ReadError> {
    let label = path.display().to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| label.clone());
    let text = read_text(path, &label)?;
    Ok(SourceFile { name, label, text })
}

/// Whether evidence at `path` is a spreadsheet (`.csv` or `.xlsx`), read by its extension.
pub fn is_sheet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("xlsx"))
}

/// Reads a spreadsheet: a CSV, or one sheet of a workbook (`sheet`, else the one named
/// `Observations` as the template names it, else the first).
pub fn read_sheet(path: &Path, sheet: Option<&str>) -> Result<handback::spreadsheet::Table, Failure> {
    let label = path.display().to_string();
    let max = crate::limits().max_input_bytes;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.len() > max as u64 {
            return Err(Failure::new(
                Exit::Invalid,
                format!(
                    "{label}: the file is {} bytes; the limit is {max} (raise it with `--max-input-bytes`)",
                    meta.len()
                ),
            ));
        }
    }
    let bytes =
        std::fs::read(path).map_err(|e| Failure::new(Exit::Io, format!("cannot read `{label}`: {e}")))?;
    let limits = crate::limits();
    let csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if csv {
        if let Some(s) = sheet {
            return Err(Failure::new(
                Exit::Usage,
                format!("`--sheet {s}`: `{label}` is a CSV file, which has one sheet"),
            ));
        }
        return Ok(handback::spreadsheet::read_csv(&label, &bytes, limits)?);
    }
    let sheet = match sheet {
        Some(s) => Some(s.to_string()),
        None => handback::spreadsheet::xlsx_sheet_names(&label, &bytes)?
            .into_iter()
            .find(|n| n == "Observations"),
    };
    Ok(handback::spreadsheet::read_xlsx(
        &label,
        &bytes,
        sheet.as_deref(),
        limits,
    )?)
}

/// Reads evidence from JSON, or from a spreadsheet by its extension (the council named by
/// `council`, else by the file's name).
pub fn read_evidence(
    pack: &handback::Pack,
    path: &Path,
    sheet: Option<&str>,
    council: Option<&str>,
) -> Result<handback::Evidence, Failure> {
    if is_sheet(path) {
        let (table, about) = read_sheet_and_about(path, sheet, council)?;
        return Ok(handback::spreadsheet::evidence_from_table(
            pack,
            &table,
            &about,
            crate::limits(),
        )?);
    }
    Ok(handback::Evidence::load_with_limits(
        pack,
        &read_source(path)?,
        crate::limits(),
    )?)
}

/// A spreadsheet's observations sheet and what the evidence says about itself: a workbook's
/// *About* sheet, `council` given, else the file's name.
pub fn read_sheet_and_about(
    path: &Path,
    sheet: Option<&str>,
    council: Option<&str>,
) -> Result<(handback::spreadsheet::Table, handback::spreadsheet::About), Failure> {
    {
        let table = read_sheet(path, sheet)?;
        let mut about = handback::spreadsheet::About::default();
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) {
            let label = path.display().to_string();
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::new(Exit::Io, format!("cannot read `{label}`: {e}")))?;
            if let Some(a) = handback::spreadsheet::read_about(&label, &bytes, crate::limits())? {
                about = a;
            }
        }
        if let Some(c) = council {
            about.council = c.to_string();
        }
        if about.council.is_empty() {
            about.council = path
                .file_stem()
                .map_or_else(|| "unnamed".into(), |s| s.to_string_lossy().into_owned());
        }
        Ok((table, about))
    }
}

fn read_text(path: &Path, label: &str) -> Result<String, ReadError> {
    // Refuse an oversized file before reading it into memory.
    let max = crate::limits().max_input_bytes;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.len() > max as u64 {
            return Err(ReadError::Invalid(vec![Diagnostic {
                file: label.to_string(),
                line: 1,
                column: 1,
                path: "$".into(),
                message: format!(
                    "the file is {} bytes; the limit is {max} (raise it with `--max-input-bytes`)",
                    meta.len()
                ),
            }]));
        }
    }
    let bytes = std::fs::read(path)
        .map_err(|e| ReadError::Io(Failure::new(Exit::Io, format!("cannot read `{label}`: {e}"))))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(e.as_bytes().get(..valid).unwrap_or(&[])).into_owned();
        let line = prefix.matches('\n').count() + 1;
        let column = prefix.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
        ReadError::Invalid(vec![Diagnostic {
            file: label.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            path: "$".into(),
            message: format!("the file is not valid UTF-8 (bad byte at offset {valid}); save it as UTF-8"),
        }])
    })
}

/// Reads every `.json` file under a pack folder, named by its path inside the pack.
pub fn read_pack(dir: &Path) -> Result<Vec<SourceFile>, ReadError> {
    if !dir.is_dir() {
        return Err(ReadError::Io(Failure::new(
            Exit::Io,
            format!(
                "`{}` is not a folder; `--pack` takes a rule pack folder",
                dir.display()
            ),
        )));
    }
    let mut out = Vec::new();
    let mut invalid = Vec::new();
    walk(dir, dir, &mut out, &mut invalid).map_err(ReadError::Io)?;
    if !invalid.is_empty() {
        return Err(ReadError::Invalid(invalid));
    }
    if out.is_empty() {
        return Err(ReadError::Invalid(vec![Diagnostic {
            file: dir.display().to_string(),
            line: 1,
            column: 1,
            path: "$".into(),
            message: "the folder holds no pack files; a pack needs `pack.json`, `vocabulary.json` and `rules/*.json`"
                .into(),
        }]));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Reads a pack folder and, when its `pack.json` extends another pack, the base's files under
/// `base/` (and the base's base under `base/base/`, …). The base is the folder `base` when given,
/// else a folder beside the pack whose `pack.json` has the id pinned, else the embedded pack when
/// it is the one pinned. A base that cannot be found is left for the loader to report, at the pin.
pub fn read_pack_layers(dir: &Path, base: Option<&Path>) -> Result<Vec<SourceFile>, ReadError> {
    let mut out = read_pack(dir)?;
    let mut current = out.clone();
    let mut current_dir = dir.to_path_buf();
    let mut given = base.map(Path::to_path_buf);
    let mut prefix = String::from(handback::authoring::BASE_PREFIX);
    // Bounded: a chain of packs extending each other in a circle ends here, and the loader
    // reports the pin it cannot satisfy.
    for _ in 0..16 {
        let Some(pin) = handback::authoring::extends_of(&current) else {
            break;
        };
        let found = given.take().or_else(|| beside(&current_dir, &pin.id));
        let layer = match &found {
            Some(d) => read_pack(d)?,
            None => {
                let embedded = handback::default_pack_files();
                if handback::authoring::extends_of(&embedded).is_none()
                    && manifest_id(&embedded).as_deref() == Some(pin.id.as_str())
                {
                    embedded
                } else {
                    break;
                }
            }
        };
        out.extend(layer.iter().map(|f| SourceFile {
            name: format!("{prefix}{}", f.name),
            ..f.clone()
        }));
        match found {
            Some(d) => current_dir = d,
            None => break,
        }
        current = layer;
        prefix.push_str(handback::authoring::BASE_PREFIX);
    }
    Ok(out)
}

/// A folder beside `dir` holding the pack with this id.
fn beside(dir: &Path, id: &str) -> Option<std::path::PathBuf> {
    let own = dir.canonicalize().ok()?;
    let parent = own.parent()?.to_path_buf();
    let mut candidates: Vec<std::path::PathBuf> = std::fs::read_dir(&parent)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.canonicalize().ok().as_ref() != Some(&own))
        .collect();
    candidates.sort();
    candidates.into_iter().find(|p| {
        std::fs::read_to_string(p.join("pack.json"))
            .ok()
            .is_some_and(|text| {
                manifest_id(&[SourceFile {
                    name: "pack.json".into(),
                    label: String::new(),
                    text,
                }])
                .as_deref()
                    == Some(id)
            })
    })
}

fn manifest_id(files: &[SourceFile]) -> Option<String> {
    let f = files.iter().find(|f| f.name == "pack.json")?;
    let v: serde_json::Value = serde_json::from_str(&f.text).ok()?;
    v.get("id")?.as_str().map(str::to_string)
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<SourceFile>,
    invalid: &mut Vec<Diagnostic>,
) -> Result<(), Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::new(Exit::Io, format!("cannot read folder `{}`: {e}", dir.display())))?;
    for entry in entries {
        let path = entry
            .map_err(|e| Failure::new(Exit::Io, format!("cannot read folder `{}`: {e}", dir.display())))?
            .path();
        if path.is_dir() {
            walk(root, &path, out, invalid)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let label = path.display().to_string();
            match read_text(&path, &label) {
                Ok(text) => out.push(SourceFile { name, label, text }),
                Err(ReadError::Invalid(d)) => invalid.extend(d),
                Err(ReadError::Io(f)) => return Err(f),
            }
        }
    }
    Ok(())
}

/// Writes a file atomically: to a temporary file beside it, flushed to disk, then renamed over
/// the target, so a reader (or a crash) sees either the old file or the whole new one. Refuses
/// to write over any of the run's inputs.
pub fn write_atomically(path: &Path, text: &str, inputs: &[&Path]) -> Result<(), Failure> {
    write_bytes_atomically(path, text.as_bytes(), inputs)
}

/// As [`write_atomically`], for bytes (a workbook).
pub fn write_bytes_atomically(path: &Path, bytes: &[u8], inputs: &[&Path]) -> Result<(), Failure> {
    use std::io::Write;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b || a.starts_with(&b) && b.is_dir(),
        _ => false,
    };
    if inputs.iter().any(|input| same(path, input)) {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "refusing to write `{}`: it is one of this run's inputs",
                path.display()
            ),
        ));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let io = |e: std::io::Error| Failure::new(Exit::Io, format!("cannot write `{}`: {e}", path.display()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        if let Some(pause) = pause_mid_write() {
            let (first, rest) = bytes.split_at_checked(bytes.len() / 2).unwrap_or((bytes, &[]));
            file.write_all(first)?;
            file.sync_all()?;
            eprintln!("handback: paused mid-write of `{}`", temp.display());
            std::thread::sleep(pause);
            file.write_all(rest)?;
        } else {
            file.write_all(bytes)?;
        }
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(io(e));
    }
    Ok(())
}

/// Test hook: `HANDBACK_TEST_PAUSE_MID_WRITE_MS` makes [`write_atomically`] stop halfway
/// through the bytes, flushed to disk, and say so on stderr, so a test can kill the process
/// between a partial write and the rename and check that the target never holds half a report.
/// Without it a kill almost never lands inside the write, and the test could not tell an atomic
/// write from a plain one.
fn pause_mid_write() -> Option<std::time::Duration> {
    let ms = std::env::var("HANDBACK_TEST_PAUSE_MID_WRITE_MS").ok()?;
    ms.parse().ok().map(std::time::Duration::from_millis)
}

/// Every file under the folder with the given extension, sorted by name: source documents for
/// citation checks.
pub fn read_folder_texts(dir: &Path, extension: &str) -> Result<Vec<(String, String)>, Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::new(Exit::Io, format!("cannot read folder `{}`: {e}", dir.display())))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == extension) {
            let text = std::fs::read(&path)
                .map_err(|e| Failure::new(Exit::Io, format!("cannot read `{}`: {e}", path.display())))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((name, String::from_utf8_lossy(&text).into_owned()));
        }
    }
    out.sort();
    Ok(out)
}

/// `handback keygen -o NAME`: writes `NAME.key` (the secret key, readable by its owner only,
/// never over an existing file) and `NAME.pub`. The random seed comes from the operating
/// system; the library only turns it into a key.
pub fn keygen(name: &Path, signer: Option<String>) -> Result<String, Failure> {
    let with = |extension: &str| {
        let mut p = name.as_os_str().to_owned();
        p.push(".");
        p.push(extension);
        std::path::PathBuf::from(p)
    };
    let (secret_path, public_path) = (with("key"), with("pub"));
    for p in [&secret_path, &public_path] {
        if p.exists() {
            return Err(Failure::new(
                Exit::Usage,
                format!(
                    "refusing to overwrite `{}`: a key pair is never replaced in place (choose another NAME, or remove the old files yourself)",
                    p.display()
                ),
            ));
        }
    }
    if signer.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(Failure::new(
            Exit::Usage,
            "`--signer` is empty; give the signer's name",
        ));
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| {
        Failure::new(
            Exit::Io,
            format!("cannot draw random bytes for the key from the operating system: {e}"),
        )
    })?;
    let key = handback::sign::SecretKey::from_seed(&seed, signer);
    seed.fill(0);
    write_secret(&secret_path, &key.file_text())?;
    if let Err(e) = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&public_path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, key.public().file_text().as_bytes()))
    {
        return Err(Failure::new(
            Exit::Io,
            format!("cannot write `{}`: {e}", public_path.display()),
        ));
    }
    Ok(format!(
        "wrote `{}` (the secret key: keep it private; readable by you only) and `{}` (the public key, id `{}`: give it to whoever verifies your reports)\n",
        secret_path.display(),
        public_path.display(),
        key.key_id()
    ))
}

/// Creates a file that must not exist yet, readable and writable by its owner only.
fn write_secret(path: &Path, text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let io = |e: std::io::Error| Failure::new(Exit::Io, format!("cannot write `{}`: {e}", path.display()));
    let mut file = options.open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}
