// Shared by the fuzz targets: the embedded pack (loaded once per process, so runs spend their time
// on the input, not on reloading the pack), and turning bytes into a source file.
#![allow(dead_code)]

use std::sync::OnceLock;

use handback::{Pack, SourceFile};

pub fn pack() -> &'static Pack {
    static PACK: OnceLock<Pack> = OnceLock::new();
    PACK.get_or_init(|| handback::default_pack().expect("the embedded pack loads"))
}

pub fn file(name: &str, data: &[u8]) -> SourceFile {
    SourceFile { name: name.into(), label: name.into(), text: String::from_utf8_lossy(data).into_owned() }
}

pub fn as_of() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2018, 3, 21).expect("a date")
}
