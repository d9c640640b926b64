import CSV
import Foundation

/// A CSV file of contacts as uploaded in the portal: a header row naming the columns, then one
/// record per contact, each with the file line it starts on (the header is line 1; a quoted cell
/// holding line breaks makes its record span several lines). Read with yaslab's CSV.swift; the
/// delimiter is a comma, or a semicolon or tab when the header uses that instead (spreadsheets
/// set to some languages save those).
public struct ContactFile: Sendable {
    /// One record below the header.
    public struct Record: Sendable, Equatable {
        /// The file line the record starts on.
        public var line: Int
        public var cells: [String]
    }

    /// The column names, trimmed; a blank one is called "Column N".
    public var header: [String]
    /// The records, without blank lines.
    public var records: [Record]

    /// Largest file the portal takes.
    public static let bytesMax = 10 * 1024 * 1024
    /// Most contacts one file holds.
    public static let rowsMax = 50_000
    /// Most columns a file may have.
    public static let columnsMax = 50

    /// The text of an uploaded file: UTF-8, with or without a byte-order mark.
    public static func text(_ bytes: some Collection<UInt8>) throws(ContactFileError) -> String {
        guard bytes.count <= bytesMax else { throw .tooLarge }
        guard !bytes.isEmpty else { throw .empty }
        var content = Array(bytes)
        if content.starts(with: [0xEF, 0xBB, 0xBF]) { content.removeFirst(3) }
        // Text without NUL bytes: a spreadsheet's own format, an image or UTF-16 has them.
        guard !content.contains(0), let text = String(validating: content, as: UTF8.self) else {
            throw .notText
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .empty }
        return text
    }

    /// Reads the header and the records (at most `recordsMax`, when given: a preview).
    public static func read(_ text: String, recordsMax: Int? = nil) throws(ContactFileError) -> ContactFile {
        let delimiter = delimiter(of: text)
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: false, delimiter: delimiter)
        } catch {
            throw .notText
        }
        guard let names = reader.next() else { throw .empty }
        guard names.count > 1 else { throw .oneColumn }
        guard names.count <= columnsMax else { throw .tooManyColumns(names.count) }
        let header = names.enumerated().map { index, name in
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? "Column \(index + 1)" : String(trimmed.unicodeScalars.prefix(100))
        }
        var line = 1 + 1 + lineBreaks(in: names)
        var records: [Record] = []
        // A bound on the loop: a file of bytesMax holds fewer records than bytes.
        for _ in 0...bytesMax {
            guard let cells = reader.next() else { break }
            defer { line += 1 + lineBreaks(in: cells) }
            guard cells.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { continue }
            if let recordsMax, records.count == recordsMax { break }
            records.append(Record(line: line, cells: cells))
        }
        if reader.error != nil { throw .notText }
        return ContactFile(header: header, records: records)
    }

    /// Reads a whole file, refusing one without contacts or with more than `rowsMax`.
    public static func readAll(_ text: String) throws(ContactFileError) -> ContactFile {
        // Reading stops one record past the limit: a file of tiny rows is not held whole to be refused.
        let file = try read(text, recordsMax: rowsMax + 1)
        guard !file.records.isEmpty else { throw .noRows }
        guard file.records.count <= rowsMax else { throw .tooManyRows(file.records.count) }
        return file
    }

    /// 50000 as "50,000".
    public static func grouped(_ number: Int) -> String {
        let digits = Array(String(number))
        return String(
            digits.enumerated().flatMap { index, digit in
                index > 0 && (digits.count - index) % 3 == 0 ? [",", digit] : [digit]
            }
        )
    }

    /// Line breaks inside a record's quoted cells: CR LF, LF or CR alone each end one line.
    static func lineBreaks(in cells: [String]) -> Int {
        var count = 0
        for cell in cells {
            var afterCR = false
            for scalar in cell.unicodeScalars {
                if scalar == "\r" {
                    count += 1
                } else if scalar == "\n", !afterCR {
                    count += 1
                }
                afterCR = scalar == "\r"
            }
        }
        return count
    }

    /// The header line's separator: a comma unless it has more semicolons or tabs (outside quotes).
    static func delimiter(of text: String) -> Unicode.Scalar {
        var counts: [Unicode.Scalar: Int] = [",": 0, ";": 0, "\t": 0]
        var quoted = false
        for scalar in text.unicodeScalars.prefix(10_000) {
            if scalar == "\"" { quoted.toggle() }
            if !quoted, scalar == "\n" || scalar == "\r" { break }
            if !quoted, counts[scalar] != nil { counts[scalar, default: 0] += 1 }
        }
        let (commas, semicolons, tabs) = (counts[","] ?? 0, counts[";"] ?? 0, counts["\t"] ?? 0)
        if semicolons > commas, semicolons >= tabs { return ";" }
        if tabs > commas, tabs > semicolons { return "\t" }
        return ","
    }
}

/// Why an uploaded file or its mapping was refused.
public enum ContactFileError: DomainError, Equatable {
    /// No file was chosen.
    case noFile
    /// Over `ContactFile.bytesMax`.
    case tooLarge
    /// Nothing in it.
    case empty
    /// Not UTF-8 text (a spreadsheet's own format, an image, another encoding).
    case notText
    /// The first line has a single column: not a CSV header.
    case oneColumn
    /// More columns than `ContactFile.columnsMax`.
    case tooManyColumns(Int)
    /// A header and no contacts.
    case noRows
    /// More contacts than `ContactFile.rowsMax`.
    case tooManyRows(Int)
    /// No column holds the name (nor a first name).
    case nameColumnMissing
    /// No column holds the phone.
    case phoneColumnMissing
    /// Two columns were given the same use.
    case columnUsedTwice(String)
    /// Opted in without saying how they agreed.
    case consentBasisMissing
    /// A record with more filled cells than the header has columns.
    case extraCells(cells: Int, columns: Int)

    public var kind: RefusalKind { .invalid }

    public var code: String {
        switch self {
        case .noFile: "file_required"
        case .tooLarge: "file_too_large"
        case .empty, .noRows: "file_empty"
        case .notText, .oneColumn: "file_not_csv"
        case .tooManyColumns: "too_many_columns"
        case .tooManyRows: "too_many_contacts"
        case .nameColumnMissing, .phoneColumnMissing, .columnUsedTwice: "mapping_invalid"
        case .consentBasisMissing: "field_required"
        case .extraCells: "row_invalid"
        }
    }

    public var message: String {
        switch self {
        case .noFile: "Choose a CSV file to upload."
        case .tooLarge:
            "The file is larger than \(ContactFile.bytesMax / 1024 / 1024) MB. Split it into smaller files and import each one."
        case .empty: "The file is empty."
        case .notText:
            "This file is not a CSV file in UTF-8. In your spreadsheet choose Save As (or Download) and “CSV UTF-8”, then upload that file."
        case .oneColumn:
            "The first line of the file should name its columns, separated by commas (for example: name,phone,email); this file's first line has only one."
        case .tooManyColumns(let count):
            "The file has \(count) columns; at most \(ContactFile.columnsMax) can be imported. Remove the columns you do not need."
        case .noRows: "The file has a header line but no contacts below it."
        case .tooManyRows:
            "The file has more than \(ContactFile.grouped(ContactFile.rowsMax)) contacts, the most one import takes. Split it into smaller files."
        case .nameColumnMissing: "Choose the column that holds each contact's name (or first name)."
        case .phoneColumnMissing: "Choose the column that holds each contact's mobile number."
        case .columnUsedTwice(let use): "Only one column can be the \(use); choose Ignore for the others."
        case .consentBasisMissing:
            "Say how these contacts agreed to receive texts (for example, signed the enrolment form)."
        case .extraCells(let cells, let columns):
            "This line has \(cells) cells but the header names \(columns) columns; a value containing a comma needs quotes around it."
        }
    }

    public var field: String? {
        switch self {
        case .noFile, .tooLarge, .empty, .notText, .oneColumn, .tooManyColumns, .noRows, .tooManyRows: "file"
        case .nameColumnMissing, .phoneColumnMissing, .columnUsedTwice: "columns"
        case .consentBasisMissing: "consent_basis"
        case .extraCells: nil
        }
    }
}
