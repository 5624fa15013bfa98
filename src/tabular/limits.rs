//! How much one upload may hold. The body size itself is bounded by the HTTP
//! layer (`WAGEBRIDGE_MAX_BODY_BYTES`); these bound what the body unpacks
//! and expands to, so a small file cannot make the service allocate much.

/// Limits on one upload; [`Limits::default`] documents each default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Data rows per upload (header, title and total rows not counted).
    /// Default 100,000: a county month of a large project is a few thousand.
    pub max_rows: usize,
    /// Columns of the header row (known and ignored). Default 64.
    pub max_columns: usize,
    /// Cells of a sheet's bounding box (rows × columns from A1), and filled
    /// cells of a CSV or JSON upload. Default 2,000,000 (100,000 rows × 20).
    pub max_cells: u64,
    /// Bytes of one CSV line, and of one CSV record. Default 64 KiB.
    pub max_line_bytes: usize,
    /// Characters of one cell. Default 4,096.
    pub max_cell_chars: usize,
    /// Entries in an XLSX zip. Default 1,000.
    pub max_zip_entries: usize,
    /// Unpacked bytes of all entries of an XLSX together. Default 512 MiB,
    /// which is only read through, never held.
    pub max_unpacked_bytes: u64,
    /// Unpacked bytes of one XLSX entry. Default 256 MiB (a 100,000-row sheet
    /// of 20 columns is about 100 MiB of XML).
    pub max_entry_bytes: u64,
    /// Unpacked size over packed size of one entry larger than 1 MiB.
    /// Default 200: sheet XML packs 10–40 times; a zip bomb packs 1,000 times.
    pub max_compression_ratio: u64,
    /// Shared strings of an XLSX. Default 2,000,000 (one per cell).
    pub max_shared_strings: u64,
    /// Text bytes of all shared strings together. Default 64 MiB.
    pub max_shared_string_bytes: u64,
    /// Bytes of XML between two `<`: one tag, or one text. Bounds what any
    /// XML reader buffers at once. Default 64 KiB.
    pub max_xml_token_bytes: usize,
    /// Attributes of one XML element. Default 64 (a cell has at most 5).
    pub max_xml_attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_rows: 100_000,
            max_columns: 64,
            max_cells: 2_000_000,
            max_line_bytes: 64 * 1024,
            max_cell_chars: 4096,
            max_zip_entries: 1000,
            max_unpacked_bytes: 512 * 1024 * 1024,
            max_entry_bytes: 256 * 1024 * 1024,
            max_compression_ratio: 200,
            max_shared_strings: 2_000_000,
            max_shared_string_bytes: 64 * 1024 * 1024,
            max_xml_token_bytes: 64 * 1024,
            max_xml_attributes: 64,
        }
    }
}

/// The deployment's limits, set once at start-up (see [`Limits::configure`]).
static CONFIGURED: std::sync::OnceLock<Limits> = std::sync::OnceLock::new();

impl Limits {
    /// The defaults with a deployment's own row limit (`WAGEBRIDGE_MAX_UPLOAD_ROWS`):
    /// the cell limit grows with it, 20 cells a row, so a wider limit still reads
    /// a usual 工资表.
    pub fn with_max_rows(max_rows: usize) -> Limits {
        let default = Limits::default();
        Limits {
            max_rows,
            max_cells: default.max_cells.max(max_rows as u64 * 20),
            ..default
        }
    }

    /// Sets the limits every upload of this process is read with; the first
    /// call wins (`serve` makes it once, before it answers anything).
    pub fn configure(limits: Limits) {
        let _ = CONFIGURED.set(limits);
    }

    /// The limits uploads are read with: the configured ones, else the defaults.
    pub fn configured() -> Limits {
        CONFIGURED.get().copied().unwrap_or_default()
    }

    /// Rows a sheet may reach: the data rows plus the rows above the header
    /// that are searched for it, plus a few total and blank rows below.
    pub(crate) fn max_sheet_rows(&self) -> u64 {
        self.max_rows as u64 + super::table::HEADER_SEARCH_ROWS as u64 + 10
    }
}
