//! A table of inputs as people export it: CSV (a BOM, quoted commas, quotes and newlines),
//! TSV, or JSON Lines; each column named `NODE.INPUT`, each row remembered by its line in
//! the file so every message can name it.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::{Map, Value};

/// One cell: text from CSV/TSV (typed later, by the input's schema), or a JSON value from
/// JSON Lines. An empty cell is `None`: the flow keeps its own value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// Text, as written.
    Text(String),
    /// A JSON value.
    Json(Value),
}

/// One row: the line it starts on in the file, and a cell per column.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// Its line in the file (the header is line 1 of a CSV).
    pub line: usize,
    /// A cell per column, `None` when empty.
    pub cells: Vec<Option<Cell>>,
}

/// A table of inputs (serialized as a Temporal batch carries it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Table {
    /// The column names, `NODE.INPUT`.
    pub columns: Vec<String>,
    /// The rows, in file order.
    pub rows: Vec<Row>,
    /// The lines of rows left out because every cell of them is empty (a spreadsheet's
    /// trailing `,,` lines, a JSON Lines `{}`): each would be a paid Run of the flow's own
    /// values, which no one asks for by leaving a row blank.
    pub blank: Vec<usize>,
}

impl Table {
    /// The cells of the row at `index` as a digest, whatever their columns' order: how a run
    /// knows a row whose line moved (`Journal::place_rows`).
    pub(crate) fn cells_key(&self, index: usize) -> String {
        let cells: Map<String, Value> = self
            .columns
            .iter()
            .zip(&self.rows[index].cells)
            .filter_map(|(column, cell)| {
                let value = match cell.as_ref()? {
                    Cell::Text(text) => Value::String(text.clone()),
                    Cell::Json(value) => value.clone(),
                };
                Some((column.clone(), value))
            })
            .collect();
        crate::graph::journal::input_key("row", 1, &Value::Object(cells))
    }

    /// Reads `path`: `.jsonl`/`.ndjson`/`.json` as JSON Lines, `.tsv`/`.tab` as tab-separated,
    /// anything else as CSV. The error names the file, the line and what is wrong; a table
    /// with no rows is refused (there is nothing to run).
    pub fn read(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path)
            .map_err(|error| format!("cannot read the table {}: {error}", path.display()))?;
        let text = match utf16(&bytes) {
            Some(text) => text.map_err(|problem| format!("the table {}: {problem}", path.display())),
            None => String::from_utf8(bytes).map_err(|error| {
            let (line, column) = place_of_byte(error.as_bytes(), error.utf8_error().valid_up_to());
            format!(
                "the table {} is not UTF-8 (line {line}, byte {column} of the line is not): save it as UTF-8 (\"CSV UTF-8\" in spreadsheets)",
                path.display(),
            )
            }),
        }?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let table = match extension.as_str() {
            "jsonl" | "ndjson" | "json" => json_lines(text),
            "tsv" | "tab" => delimited(text, '\t'),
            _ => delimited(text, separator_of(text)),
        };
        let table = table.and_then(|table| match (table.rows.len(), table.blank.len()) {
            (0, 0) => Err("it has no rows: there is nothing to run".into()),
            (0, blank) => Err(format!(
                "its {} every cell empty: there is nothing to run",
                counted(blank, "row") + if blank == 1 { " has" } else { " have" }
            )),
            _ => Ok(table),
        });
        table.map_err(|problem| format!("the table {}: {problem}", path.display()))
    }

    /// What the reader left out, for a person, when it left anything: `rows 14 and 15 have
    /// every cell empty: left out (a blank row is not a Run of the flow's own values)`.
    pub fn left_out(&self) -> Option<String> {
        let lines: Vec<String> = self.blank.iter().map(usize::to_string).collect();
        let (which, have) = match lines.as_slice() {
            [] => return None,
            [one] => (format!("row {one}"), "has"),
            _ => (format!("rows {}", first_few(&lines, "row")), "have"),
        };
        Some(format!(
            "{which} {have} every cell empty: left out, as a blank row is no Run of the flow's own values"
        ))
    }
}

/// The line (from 1) of byte `offset` of `bytes`, and the byte's place in that line (from 1).
fn place_of_byte(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&byte| byte == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |at| at + 1);
    (line, offset - start + 1)
}

/// A text of UTF-16 (as a spreadsheet's "Unicode Text" saves it, with its byte-order mark),
/// decoded; `None` for any other text.
fn utf16(bytes: &[u8]) -> Option<Result<String, String>> {
    let little = match bytes {
        [0xff, 0xfe, ..] => true,
        [0xfe, 0xff, ..] => false,
        _ => return None,
    };
    let units: Vec<u16> = bytes[2..]
        .chunks(2)
        .map(|pair| match (pair, little) {
            ([low, high], true) => u16::from_le_bytes([*low, *high]),
            ([high, low], false) => u16::from_be_bytes([*high, *low]),
            _ => 0xdc00, // an odd last byte: no character
        })
        .collect();
    Some(String::from_utf16(&units).map_err(|_| {
        "it starts as UTF-16 text but is not: save it as UTF-8 (\"CSV UTF-8\" in spreadsheets)"
            .to_owned()
    }))
}

/// The separator of a delimited table, read from its header (the first line with text): the
/// columns are named `NODE.INPUT`, which hold no comma, tab or semicolon, so the first of
/// those the header holds separates its cells. Spreadsheets save CSV with semicolons where a
/// comma is the decimal mark, and "Text (Tab delimited)" as `.txt`.
fn separator_of(text: &str) -> char {
    let header = text.lines().find(|line| !line.trim().is_empty());
    let header = header.unwrap_or_default();
    [',', '\t', ';']
        .into_iter()
        .find(|separator| header.contains(*separator))
        .unwrap_or(',')
}

/// CSV as RFC 4180 writes it (and spreadsheets export it): fields split by `separator`,
/// quoted fields may hold separators, newlines and doubled quotes.
fn delimited(text: &str, separator: char) -> Result<Table, String> {
    let records = records(text, separator)?;
    // Blank lines above the header (a copy and paste, some exports) are no header.
    let mut records = records
        .into_iter()
        .skip_while(|(_, fields)| fields.iter().all(|field| field.trim().is_empty()));
    let Some((_, header)) = records.next() else {
        return Err("it is empty: the first line names the columns (NODE.INPUT)".into());
    };
    // UTF-16 saved without its BOM reads as text with a NUL after each letter.
    if header.iter().any(|name| name.contains('\0')) {
        return Err("its first line holds NUL characters: it looks like UTF-16 saved without a byte order mark; save it as UTF-8 (\"CSV UTF-8\" in spreadsheets)".into());
    }
    let columns: Vec<String> = header
        .into_iter()
        .map(|name| name.trim().to_owned())
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(columns.len());
    for (second, name) in columns
        .iter()
        .enumerate()
        .filter(|(_, name)| !name.is_empty())
    {
        if let Some(first) = seen.insert(name, second) {
            return Err(format!(
                "column {name} appears twice (columns {} and {}): say each input once",
                first + 1,
                second + 1
            ));
        }
    }
    let mut rows = Vec::new();
    let mut ragged = Vec::new();
    for (line, fields) in records {
        // A line with nothing is no row; one of spaces alone is none either where a row has
        // several cells, and a blank row (named as such) where it has one.
        if let [only] = fields.as_slice() {
            if only.is_empty() || (only.trim().is_empty() && columns.len() > 1) {
                continue;
            }
        }
        if fields.len() != columns.len() {
            ragged.push(format!("row {line} has {}", counted(fields.len(), "cell")));
            continue;
        }
        // A cell of spaces alone is as empty as one with nothing: no input takes blanks.
        let cells = fields
            .into_iter()
            .map(|field| (!field.trim().is_empty()).then_some(Cell::Text(field)))
            .collect();
        rows.push(Row { line, cells });
    }
    if !ragged.is_empty() {
        // Every ragged row (the first few by name): one fix-and-retry, not one per row.
        return Err(format!(
            "{}; the header has {}",
            first_few(&ragged, "row"),
            counted(columns.len(), "column")
        ));
    }
    // Spreadsheets export the empty columns right of the data as `,,` in every line: a
    // column with no name and no value is left out; one with values needs its name.
    let unnamed = columns
        .iter()
        .enumerate()
        .filter(|(_, name)| name.is_empty());
    for (index, _) in unnamed {
        if let Some(row) = rows.iter().find(|row| row.cells[index].is_some()) {
            return Err(format!(
                "column {} has no name, and row {} has a value in it: name it NODE.INPUT, or delete it",
                index + 1,
                row.line
            ));
        }
    }
    let named: Vec<bool> = columns.iter().map(|name| !name.is_empty()).collect();
    let columns = columns
        .into_iter()
        .filter(|name| !name.is_empty())
        .collect();
    for row in &mut rows {
        let mut keep = named.iter();
        row.cells.retain(|_| keep.next() == Some(&true));
    }
    Ok(without_blank_rows(columns, rows))
}

/// The table of `rows`, those whose every cell is empty left out and remembered.
fn without_blank_rows(columns: Vec<String>, rows: Vec<Row>) -> Table {
    let (blank, rows): (Vec<Row>, Vec<Row>) = rows
        .into_iter()
        .partition(|row| row.cells.iter().all(Option::is_none));
    let blank = blank.into_iter().map(|row| row.line).collect();
    Table {
        columns,
        rows,
        blank,
    }
}

/// `1 cell`, `2 cells`: a count and its noun.
pub(crate) fn counted(count: usize, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

/// The first five of `items`, joined by commas, and how many more `noun`s there are:
/// `a, b, c, d, e (and 3 more rows)`. A long list in a message, kept to a line.
pub(crate) fn first_few(items: &[String], noun: &str) -> String {
    const NAMED: usize = 5;
    let named = items[..items.len().min(NAMED)].join(", ");
    match items.len().saturating_sub(NAMED) {
        0 => named,
        more => format!("{named} (and {})", counted(more, &format!("more {noun}"))),
    }
}

/// The records of a delimited text, each with the line it starts on. A line ends with LF,
/// CRLF, or CR alone (as old Mac spreadsheets save). A cell that starts with a quote is quoted
/// when it ends at its closing quote; in CSV one that does not is refused (a reader guessing
/// would drop the quotes of `"Hi" she said`), in TSV it is text, quotes and all, as TSV
/// writers that never quote leave it.
fn records(text: &str, separator: char) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let (mut line, mut start) = (1, 1);
    // Inside a quoted cell; after its closing quote, where only spaces may come before the
    // separator.
    let (mut quoted, mut closed) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => (quoted, closed) = (false, true),
            // A line break in a cell is kept as LF, whatever the file's line ends: a table
            // saved again with CRLF (git, an editor) is the same table, and pays for nothing.
            (true, '\r') if chars.peek() == Some(&'\n') => {}
            (true, c) => {
                let line_end = c == '\n' || c == '\r';
                line += usize::from(line_end);
                field.push(if line_end { '\n' } else { c });
            }
            (false, ' ') if closed => {}
            // Spaces before the opening quote are the writer's (`a, "b"`), not the cell's.
            (false, '"') if !closed && field.trim().is_empty() => {
                match quoted_cell(chars.clone(), separator) {
                    QuotedCell::Closed => {
                        field.clear();
                        quoted = true;
                    }
                    _ if separator == '\t' => field.push('"'),
                    QuotedCell::NeverClosed => {
                        return Err(format!("a quote opened on line {line} is never closed"))
                    }
                    QuotedCell::TextAfter(cell) => {
                        let cell = crate::models::cut(&cell, 60);
                        return Err(format!(
                        "line {line}: the cell {cell} has text after its closing quote: a quote inside a cell is written twice, in a quoted cell (\"\"\"Hi\"\" she said\" for \"Hi\" she said)"
                    ));
                    }
                }
            }
            (false, c) if c == separator => {
                fields.push(std::mem::take(&mut field));
                closed = false;
            }
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n' | '\r') => {
                fields.push(std::mem::take(&mut field));
                closed = false;
                records.push((start, std::mem::take(&mut fields)));
                line += 1;
                start = line;
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start, fields));
    }
    Ok(records)
}

/// How a cell that starts with a quote goes on.
enum QuotedCell {
    /// Its closing quote ends the cell.
    Closed,
    /// No quote closes it.
    NeverClosed,
    /// Text follows its closing quote: the cell as written, up to its end.
    TextAfter(String),
}

/// How the quoted cell whose text starts at `rest` (after its opening quote) goes on.
fn quoted_cell(mut rest: impl Iterator<Item = char>, separator: char) -> QuotedCell {
    let mut written = String::from('"');
    let (mut tab, mut line_end) = (false, false);
    while let Some(c) = rest.next() {
        written.push(c);
        tab |= c == '\t';
        line_end |= c == '\n' || c == '\r';
        if separator == '\t' && tab && line_end {
            // A cell of several lines with a tab in it is what a TSV writer that never quotes
            // leaves: `"Sunrise` here and `12"` at the end of a cell a line below. Read as one
            // cell it would swallow the rows between; the quote is text.
            return QuotedCell::NeverClosed;
        }
        if c != '"' {
            continue;
        }
        let mut after = rest.next();
        if after == Some('"') {
            written.push('"'); // a quote written twice: one quote in the cell
            continue;
        }
        while after == Some(' ') {
            written.push(' ');
            after = rest.next();
        }
        match after {
            None | Some('\n' | '\r') => return QuotedCell::Closed,
            Some(c) if c == separator => return QuotedCell::Closed,
            Some(c) => {
                written.push(c);
                let tail = rest.take_while(|&c| c != separator && c != '\n' && c != '\r');
                written.extend(tail.take(40));
                return QuotedCell::TextAfter(written);
            }
        }
    }
    QuotedCell::NeverClosed
}

/// One JSON object per line, keys `NODE.INPUT`; the columns are every key seen, in order.
fn json_lines(text: &str) -> Result<Table, String> {
    if text.trim_start().starts_with('[') {
        return Err("it holds a JSON array: write one object per line (JSON Lines), e.g. with `jq -c '.[]' TABLE.json > TABLE.jsonl`".into());
    }
    // Lines may end in CR alone, as in CSV (JSON writes a CR inside a string as `\r`).
    let text: std::borrow::Cow<str> = match text.contains('\r') {
        true => text.replace("\r\n", "\n").replace('\r', "\n").into(),
        false => text.into(),
    };
    let mut columns: Vec<String> = Vec::new();
    let mut known: HashSet<String> = HashSet::new();
    let mut objects: Vec<(usize, Map<String, Value>)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if line.trim() == "{" {
            return Err(format!("line {}: a JSON object written over several lines: JSON Lines is one object per line, e.g. with `jq -c . TABLE.json > TABLE.jsonl`", index + 1));
        }
        let object = json_object(line).map_err(|problem| format!("line {}{problem}", index + 1))?;
        for key in object.keys() {
            if known.insert(key.clone()) {
                columns.push(key.clone());
            }
        }
        objects.push((index + 1, object));
    }
    let rows = objects
        .into_iter()
        .map(|(line, object)| Row {
            line,
            cells: columns
                .iter()
                .map(|column| match object.get(column) {
                    None | Some(Value::Null) => None,
                    Some(value) => Some(Cell::Json(value.clone())),
                })
                .collect(),
        })
        .collect();
    Ok(without_blank_rows(columns, rows))
}

/// One line of JSON Lines as an object, refusing a key written twice (JSON readers keep the
/// last without a word: a 360p row would run at 1080p). The error goes after the line's
/// number: `, column 12: not a JSON object (expected `:`)`.
fn json_object(line: &str) -> Result<Map<String, Value>, String> {
    let entries: Entries = serde_json::from_str(line).map_err(|error| {
        let text = error.to_string();
        let why = text
            .strip_suffix(&format!(
                " at line {} column {}",
                error.line(),
                error.column()
            ))
            .unwrap_or(&text);
        // The reader counts bytes; a person counts characters (`é` is one).
        let mut byte = error.column().saturating_sub(1).min(line.len());
        while !line.is_char_boundary(byte) {
            byte -= 1;
        }
        let column = line[..byte].chars().count() + 1;
        format!(", column {column}: not a JSON object ({why})")
    })?;
    let mut object = Map::new();
    for (key, value) in entries.0 {
        if object.contains_key(&key) {
            return Err(format!(": key {key:?} appears twice: say each input once"));
        }
        object.insert(key, value);
    }
    Ok(object)
}

/// A JSON object's entries in order, a key written twice kept twice.
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of NODE.INPUT keys")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_as_spreadsheets_export_it() {
        let text = "\u{feff}video.prompt,video.quality\r\n\"a fox, running\",720p\r\n\"she said \"\"hi\"\"\nand left\",\r\nÇa va — naïve,360p\r\n";
        let table = delimited(text.trim_start_matches('\u{feff}'), ',').unwrap();
        assert_eq!(table.columns, ["video.prompt", "video.quality"]);
        assert_eq!(table.rows.len(), 3);
        assert_eq!(
            table.rows[0].cells[0],
            Some(Cell::Text("a fox, running".into()))
        );
        assert_eq!(
            table.rows[1].cells[0],
            Some(Cell::Text("she said \"hi\"\nand left".into()))
        );
        assert_eq!(
            table.rows[1].cells[1], None,
            "an empty cell keeps the flow's value"
        );
        assert_eq!((table.rows[1].line, table.rows[2].line), (3, 5));
        assert_eq!(
            table.rows[2].cells[0],
            Some(Cell::Text("Ça va — naïve".into()))
        );
    }

    #[test]
    fn ragged_rows_and_open_quotes_are_named() {
        let ragged = delimited("a.b,c.d\n1,2\n3\n4,5,6\n", ',').unwrap_err();
        assert_eq!(
            ragged,
            "row 3 has 1 cell, row 4 has 3 cells; the header has 2 columns"
        );
        let many: String = (0..8).map(|_| "1\n").collect();
        let many = delimited(&format!("a.b,c.d\n{many}"), ',').unwrap_err();
        assert!(
            many.contains("row 6 has 1 cell (and 3 more rows);"),
            "{many}"
        );
        let open = delimited("a.b\n\"never closed\n", ',').unwrap_err();
        assert!(open.contains("line 2"), "{open}");
    }

    #[test]
    fn a_column_named_twice_is_refused_saying_so() {
        let twice = delimited("v.quality,v.seed,v.quality\n360p,1,1080p\n", ',').unwrap_err();
        assert!(
            twice.contains("column v.quality appears twice (columns 1 and 3)"),
            "{twice}"
        );
    }

    #[test]
    fn tables_as_spreadsheets_save_them_in_other_places_are_read() {
        let sniffed = |text: &str| delimited(text, separator_of(text)).unwrap();
        // Semicolons where a comma is the decimal mark; a comma inside a cell stays.
        let semicolons = sniffed("v.prompt;v.quality\r\n\"a fox, running\";360p\r\n");
        assert_eq!(semicolons.columns, ["v.prompt", "v.quality"]);
        assert_eq!(
            semicolons.rows[0].cells[0],
            Some(Cell::Text("a fox, running".into()))
        );
        // "Text (Tab delimited)", saved as .txt, and a blank line above the header.
        let tabs = sniffed("\n\nv.prompt\tv.seed\nfox\t1\n");
        assert_eq!((tabs.columns.len(), tabs.rows[0].line), (2, 4));
        // "Unicode Text": UTF-16 with its byte-order mark.
        let mut bytes = vec![0xff, 0xfe];
        "v.prompt\tv.seed\r\nrenard é\t1\r\n"
            .encode_utf16()
            .for_each(|unit| bytes.extend(unit.to_le_bytes()));
        let text = utf16(&bytes).unwrap().unwrap();
        let unicode = sniffed(text.trim_start_matches('\u{feff}'));
        assert_eq!(
            unicode.rows[0].cells[0],
            Some(Cell::Text("renard é".into()))
        );
        assert!(utf16(b"v.prompt\n").is_none(), "UTF-8 is read as UTF-8");
        // A cell's line break is the same whatever the file's line ends.
        let lf = sniffed("v.prompt\n\"one\ntwo\"\n");
        let crlf = sniffed("v.prompt\r\n\"one\r\ntwo\"\r\n");
        assert_eq!(lf.rows, crlf.rows);
    }

    #[test]
    fn a_row_with_every_cell_empty_is_left_out_and_named() {
        let table = delimited("v.prompt,v.seed\nfox,1\n,\n\n, \n,\n", ',').unwrap();
        assert_eq!(table.rows.len(), 1, "{table:?}");
        assert_eq!(table.blank, [3, 5, 6], "a cell of spaces is empty");
        let note = table.left_out().unwrap();
        assert!(
            note.starts_with("rows 3, 5, 6 have every cell empty"),
            "{note}"
        );
        let lines = json_lines("{\"v.p\": \"fox\"}\n{}\n{\"v.p\": null}\n").unwrap();
        assert_eq!((lines.rows.len(), lines.blank.as_slice()), (1, &[2, 3][..]));
        let dir = std::env::temp_dir().join(format!("wiro-blank-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let blank = dir.join("blank.csv");
        std::fs::write(&blank, "v.prompt,v.seed\n,\n").unwrap();
        let error = Table::read(&blank).unwrap_err();
        assert!(
            error.ends_with("its 1 row has every cell empty: there is nothing to run"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn old_mac_line_ends_and_empty_columns_right_of_the_data_are_read() {
        let mac = delimited("v.prompt,v.seed\rfox,1\r\"two\rlines\",2\rowl,3\r", ',').unwrap();
        assert_eq!(mac.rows.len(), 3);
        assert_eq!(mac.rows[1].cells[0], Some(Cell::Text("two\nlines".into())));
        assert_eq!((mac.rows[1].line, mac.rows[2].line), (3, 5));
        let excel = delimited("v.prompt,v.seed,,\nfox,1,,\n", ',').unwrap();
        assert_eq!(excel.columns, ["v.prompt", "v.seed"]);
        assert_eq!(excel.rows[0].cells.len(), 2);
        let valued = delimited("v.prompt,,\nfox,,\nowl,,3\n", ',').unwrap_err();
        assert_eq!(
            valued,
            "column 3 has no name, and row 3 has a value in it: name it NODE.INPUT, or delete it"
        );
    }

    #[test]
    fn a_quoted_cell_with_text_after_its_quote_is_refused_in_csv_and_text_in_tsv() {
        let csv = delimited("v.prompt,v.seed\nfox,1\n\"Hi\" she said,2\n", ',').unwrap_err();
        assert!(
            csv.starts_with("line 3: the cell \"Hi\" she said has text after its closing quote"),
            "{csv}"
        );
        let tsv = delimited("v.prompt\tv.seed\n\"Hi\" she said\t2\n\"a\tb\"\t3\n", '\t').unwrap();
        assert_eq!(
            tsv.rows[0].cells[0],
            Some(Cell::Text("\"Hi\" she said".into()))
        );
        assert_eq!(
            tsv.rows[1].cells[0],
            Some(Cell::Text("a\tb".into())),
            "a quoted TSV cell"
        );
        let open = delimited("v.prompt\tv.seed\n\"never\t1\n", '\t').unwrap();
        assert_eq!(open.rows[0].cells[0], Some(Cell::Text("\"never".into())));
        // A quote opening one row's cell and one closing a cell lines below swallow no row.
        let inches = "v.prompt\tv.seed\n\"Sunrise over the bay\t1\nTV with a 12\"\t2\n";
        let inches = delimited(inches, '\t').unwrap();
        assert_eq!(inches.rows.len(), 2);
        assert_eq!(
            inches.rows[1].cells[0],
            Some(Cell::Text("TV with a 12\"".into()))
        );
        let lines = delimited("v.prompt\tv.seed\n\"two\nlines\"\t1\n", '\t').unwrap();
        assert_eq!(
            lines.rows[0].cells[0],
            Some(Cell::Text("two\nlines".into())),
            "a quoted TSV cell of two lines"
        );
    }

    #[test]
    fn spaces_alone_are_empty_and_spaces_around_quotes_are_the_writer_s() {
        let table = delimited(
            "v.prompt,v.quality,v.seed\n\"a cat\", \"360p\" ,  \n  ,  ,\n   \n",
            ',',
        )
        .unwrap();
        assert_eq!(table.rows.len(), 1);
        assert_eq!(table.rows[0].cells[0], Some(Cell::Text("a cat".into())));
        assert_eq!(table.rows[0].cells[1], Some(Cell::Text("360p".into())));
        assert_eq!(
            table.rows[0].cells[2], None,
            "spaces alone keep the flow's value"
        );
        assert_eq!(
            table.blank,
            [3],
            "a row of spaces is blank; a line of them is no row"
        );
        let semicolons = delimited("v.prompt;v.quality\n\"a\";360p\n", ';').unwrap();
        assert_eq!(semicolons.rows[0].cells[0], Some(Cell::Text("a".into())));
        let mac = json_lines("{\"v.p\": \"a\"}\r{\"v.p\": \"b\"}\r").unwrap();
        assert_eq!((mac.rows.len(), mac.rows[1].line), (2, 2));
        let later = json_lines("{\"v.p\": \"a\"}\n{\n\"v.p\": \"b\"\n}\n").unwrap_err();
        assert!(
            later.starts_with("line 2: a JSON object written over several lines"),
            "{later}"
        );
    }

    #[test]
    fn json_lines_keep_their_types() {
        let table =
            json_lines("{\"v.n\": 3, \"v.p\": \"x\"}\n\n{\"v.p\": null, \"v.s\": true}\n").unwrap();
        assert_eq!(table.columns, ["v.n", "v.p", "v.s"]);
        assert_eq!(table.rows[0].cells[0], Some(Cell::Json(3.into())));
        assert_eq!(
            table.rows[1].cells,
            [None, None, Some(Cell::Json(true.into()))]
        );
        assert_eq!(table.rows[1].line, 3);
    }

    #[test]
    fn a_json_lines_mistake_names_its_line_and_column_once() {
        let broken = json_lines("{\"v.n\": 3}\n{\"v.n\" 4}\n").unwrap_err();
        assert_eq!(broken, "line 2, column 8: not a JSON object (expected `:`)");
        let twice = json_lines("{\"v.q\": \"360p\", \"v.q\": \"1080p\"}\n").unwrap_err();
        assert!(
            twice.contains("line 1: key \"v.q\" appears twice"),
            "{twice}"
        );
        let wide = json_lines("{\"v.prompt\": \"café\" 4}\n").unwrap_err();
        assert!(
            wide.starts_with("line 1, column 21:"),
            "characters, not bytes: {wide}"
        );
        let pretty = json_lines("{\n  \"v.n\": 3\n}\n").unwrap_err();
        assert!(pretty.contains("over several lines"), "{pretty}");
        let array = json_lines("[{\"v.n\": 3}]").unwrap_err();
        assert!(array.contains("holds a JSON array"), "{array}");
        let not_object = json_lines("3\n").unwrap_err();
        assert!(
            not_object.starts_with("line 1, column 1: not a JSON object"),
            "{not_object}"
        );
    }

    #[test]
    fn utf16_without_its_byte_order_mark_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let utf16: Vec<u8> = "video.prompt\nfox\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        std::fs::write(&path, utf16).unwrap();
        let error = Table::read(&path).unwrap_err();
        assert!(
            error.contains("looks like UTF-16 saved without a byte order mark"),
            "{error}"
        );
    }

    #[test]
    fn a_file_names_where_it_stops_being_utf8_or_that_it_has_no_rows() {
        let dir = std::env::temp_dir().join(format!("wiro-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let latin1 = dir.join("latin1.csv");
        std::fs::write(&latin1, b"v.prompt\nfox\ncaf\xe9\n").unwrap();
        let error = Table::read(&latin1).unwrap_err();
        assert!(error.contains("line 3, byte 4 of the line"), "{error}");
        let header_only = dir.join("empty.csv");
        std::fs::write(&header_only, "v.prompt\n").unwrap();
        let error = Table::read(&header_only).unwrap_err();
        assert!(error.contains("no rows"), "{error}");
        let lines = dir.join("rows.json");
        std::fs::write(&lines, "{\"v.prompt\": \"fox\"}\n").unwrap();
        assert_eq!(
            Table::read(&lines).unwrap().rows.len(),
            1,
            "a .json of JSON Lines"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
