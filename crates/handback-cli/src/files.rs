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
    write_file(path, bytes, Install::Replace, 0o666)
}

/// How a finished temporary file takes its target's place.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Install {
    /// Renamed over the target: whatever was there is replaced in one step.
    Replace,
    /// Linked in under the target's name, which fails if a file of that name exists (a key is
    /// never replaced): the file appears whole or not at all.
    New,
}

/// The one writer every file this command writes goes through: a temporary file beside the
/// target (named by the process id, so two runs never share one), its bytes flushed to disk,
/// then installed under the target's name. On any failure (a read-only folder, a full disk, a
/// rename refused) the temporary file is removed and the target is as it was.
fn write_file(path: &Path, bytes: &[u8], install: Install, mode: u32) -> Result<(), Failure> {
    let temp = temp_beside(path);
    let result = match disk_full_after() {
        Some(room) => write_via_temp(path, &temp, bytes, install, |p| {
            Ok(FillsUp {
                file: create_temp(p, mode)?,
                room,
            })
        }),
        None => write_via_temp(path, &temp, bytes, install, |p| create_temp(p, mode)),
    };
    result.map_err(|e| {
        // INVARIANT: a failed write never installs anything, so the target is what it was.
        let kept = if install == Install::Replace && path.is_file() {
            "the file is as it was before this run"
        } else {
            "nothing was written"
        };
        Failure::new(
            Exit::Io,
            format!("cannot write `{}`: {e}; {kept}", path.display()),
        )
    })
}

/// The temporary file for a target: `.NAME.PID.tmp` in the target's folder, so the rename
/// stays on one file system and two processes never write the same temporary file.
pub fn temp_beside(path: &Path) -> std::path::PathBuf {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Creates the temporary file, which must be new: a file of the same name can only be one a
/// killed run with the same process id left, and is removed (never written through: if it is a
/// link, the link goes, not what it points to).
fn create_temp(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    let open = || {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        options.open(path)
    };
    match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(path)?;
            open()
        }
        other => other,
    }
}

/// What a temporary file must do: take bytes and reach the disk. A trait so that a test, or
/// the test hook `HANDBACK_TEST_DISK_FULL_AFTER_BYTES`, can stand in a disk that fills up.
trait TempFile: std::io::Write {
    /// Flushes the bytes to the disk.
    fn sync(&mut self) -> std::io::Result<()>;
}

impl TempFile for std::fs::File {
    fn sync(&mut self) -> std::io::Result<()> {
        self.sync_all()
    }
}

/// A file on a disk with `room` bytes left: writes beyond it fail as a full disk does.
struct FillsUp<F> {
    file: F,
    room: usize,
}

impl<F: std::io::Write> std::io::Write for FillsUp<F> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 && !buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "no space left on device (simulated)",
            ));
        }
        let n = buf.len().min(self.room);
        let n = self.file.write(buf.get(..n).unwrap_or(buf))?;
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl<F: TempFile> TempFile for FillsUp<F> {
    fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync()
    }
}

/// The steps of an atomic write, over any [`TempFile`]: create the temporary file, write every
/// byte, flush to disk, install it under the target's name, then flush the folder so the new
/// name survives a power cut. If any step fails the temporary file is removed.
fn write_via_temp<F: TempFile>(
    target: &Path,
    temp: &Path,
    bytes: &[u8],
    install: Install,
    create: impl FnOnce(&Path) -> std::io::Result<F>,
) -> std::io::Result<()> {
    let result = (|| {
        let mut file = create(temp)?;
        if let Some(pause) = pause_mid_write() {
            let (first, rest) = bytes.split_at_checked(bytes.len() / 2).unwrap_or((bytes, &[]));
            file.write_all(first)?;
            file.sync()?;
            eprintln!("handback: paused mid-write of `{}`", temp.display());
            std::thread::sleep(pause);
            file.write_all(rest)?;
        } else {
            file.write_all(bytes)?;
        }
        file.sync()?;
        drop(file);
        match install {
            Install::Replace => std::fs::rename(temp, target),
            Install::New => {
                std::fs::hard_link(temp, target)?;
                // The target is whole under its name; the temporary name is only a second link.
                let _ = std::fs::remove_file(temp);
                Ok(())
            }
        }
    })();
    match result {
        Ok(()) => {
            if let Some(dir) = temp.parent() {
                // Best effort: not every platform can open a folder to flush it.
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(temp);
            Err(e)
        }
    }
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

/// Test hook: `HANDBACK_TEST_DISK_FULL_AFTER_BYTES=N` makes every write fail as a full disk
/// does once N bytes of the file are written, so a test can check what a full disk leaves on
/// any machine (a real small file system needs root to mount).
fn disk_full_after() -> Option<usize> {
    std::env::var("HANDBACK_TEST_DISK_FULL_AFTER_BYTES")
        .ok()?
        .parse()
        .ok()
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
    write_file(&secret_path, key.file_text().as_bytes(), Install::New, 0o600)?;
    write_file(
        &public_path,
        key.public().file_text().as_bytes(),
        Install::New,
        0o644,
    )?;
    Ok(format!(
        "wrote `{}` (the secret key: keep it private; readable by you only) and `{}` (the public key, id `{}`: give it to whoever verifies your reports)\n",
        secret_path.display(),
        public_path.display(),
        key.key_id()
    ))
}

#[cfg(test)]
mod tests {
    //! The atomic writer under faults no test can cause on a real disk without root: a disk
    //! that fills up after any number of bytes, a flush that fails, a rename that is refused.

    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("handback-writer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A file whose flush to disk fails (an I/O error reported at `fsync`, as NFS and full
    /// thin-provisioned disks do).
    struct SyncFails(std::fs::File);

    impl std::io::Write for SyncFails {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.0.flush()
        }
    }

    impl TempFile for SyncFails {
        fn sync(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::other("input/output error (simulated)"))
        }
    }

    /// A disk that fills up after every possible number of bytes: the write fails, the old
    /// file is untouched, and no temporary file is left; with room for every byte, it succeeds.
    #[test]
    fn a_disk_filling_up_at_any_byte_leaves_the_old_file_and_no_temporary_file() {
        let dir = scratch("full");
        let target = dir.join("report.json");
        let old = b"{\"old\": true}\n".repeat(3);
        let new: Vec<u8> = (0..200u8).map(|i| b'a' + i % 26).collect();
        for room in 0..=new.len() {
            std::fs::write(&target, &old).unwrap();
            let temp = temp_beside(&target);
            let result = write_via_temp(&target, &temp, &new, Install::Replace, |p| {
                Ok(FillsUp {
                    file: create_temp(p, 0o666)?,
                    room,
                })
            });
            if room < new.len() {
                let e = result.unwrap_err();
                assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "room {room}");
                assert_eq!(std::fs::read(&target).unwrap(), old, "room {room}");
            } else {
                result.unwrap();
                assert_eq!(std::fs::read(&target).unwrap(), new);
            }
            assert_eq!(names(&dir), ["report.json"], "room {room}");
        }
        // A new target on a full disk is never created.
        let fresh = dir.join("fresh.json");
        let temp = temp_beside(&fresh);
        let result = write_via_temp(&fresh, &temp, &new, Install::New, |p| {
            Ok(FillsUp {
                file: create_temp(p, 0o600)?,
                room: 10,
            })
        });
        assert!(result.is_err());
        assert_eq!(names(&dir), ["report.json"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every byte written but the flush to disk fails: nothing is installed.
    #[test]
    fn a_failed_flush_installs_nothing() {
        let dir = scratch("sync");
        let target = dir.join("report.json");
        std::fs::write(&target, "old").unwrap();
        let temp = temp_beside(&target);
        let result = write_via_temp(&target, &temp, b"new", Install::Replace, |p| {
            Ok(SyncFails(create_temp(p, 0o666)?))
        });
        assert!(result.unwrap_err().to_string().contains("simulated"));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(names(&dir), ["report.json"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The rename refused (the target is a folder): the folder is untouched, the temporary file
    /// removed, and the error names the target.
    #[test]
    fn a_refused_rename_leaves_no_temporary_file() {
        let dir = scratch("rename");
        let target = dir.join("report.json");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), "kept").unwrap();
        let failure = write_bytes_atomically(&target, b"new", &[]).err().unwrap();
        assert!(matches!(failure.exit, Exit::Io));
        assert!(
            failure
                .message
                .starts_with(&format!("cannot write `{}`: ", target.display())),
            "{}",
            failure.message
        );
        assert_eq!(names(&dir), ["report.json"]);
        assert_eq!(std::fs::read_to_string(target.join("inside")).unwrap(), "kept");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A temporary file left by a killed run with the same process id is replaced, and if it is
    /// a link to another file, that file is never written through it.
    #[cfg(unix)]
    #[test]
    fn a_stale_temporary_link_is_never_written_through() {
        let dir = scratch("stale");
        let target = dir.join("report.json");
        let precious = dir.join("evidence.json");
        std::fs::write(&precious, "the evidence").unwrap();
        std::os::unix::fs::symlink(&precious, temp_beside(&target)).unwrap();
        assert!(write_bytes_atomically(&target, b"the report", &[]).is_ok());
        assert_eq!(std::fs::read_to_string(&precious).unwrap(), "the evidence");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "the report");
        assert_eq!(names(&dir), ["evidence.json", "report.json"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `Install::New` never replaces a file: a key pair's secret stays as it was.
    #[test]
    fn a_new_file_never_replaces_one_that_exists() {
        let dir = scratch("new");
        let target = dir.join("signer.key");
        std::fs::write(&target, "the old key").unwrap();
        let failure = write_file(&target, b"a new key", Install::New, 0o600)
            .err()
            .unwrap();
        assert!(
            failure.message.contains("nothing was written"),
            "{}",
            failure.message
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "the old key");
        assert_eq!(names(&dir), ["signer.key"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
