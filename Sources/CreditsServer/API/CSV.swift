import Foundation
import Hummingbird
import NIOCore

/// RFC 4180 CSV with a header row and CRLF line ends. A cell that a spreadsheet would read as a
/// formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return and is not a plain
/// number) gets a leading `'`, as OWASP recommends, so a contact named `=HYPERLINK(…)` stays text.
public enum CSV {
    public static func document(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map(line).joined()
    }

    /// One record with its line end.
    public static func line(_ cells: [String]) -> String {
        cells.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ value: String) -> String {
        let safe = neutralized(value)
        guard safe.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            return safe
        }
        return "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The cell, with a `'` in front when a spreadsheet would run it as a formula.
    static func neutralized(_ value: String) -> String {
        guard let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), !isNumber(value) else {
            return value
        }
        return "'" + value
    }

    /// A plain decimal number such as `-12` or `+0.5` (credits and amounts), which stays as it is.
    static func isNumber(_ value: String) -> Bool {
        var digits = value.utf8.dropFirst(value.hasPrefix("-") || value.hasPrefix("+") ? 1 : 0)
        guard !digits.isEmpty else { return false }
        if let point = digits.firstIndex(of: UInt8(ascii: ".")) {
            let fraction = digits[digits.index(after: point)...]
            guard !fraction.isEmpty, fraction.allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
            digits = digits[..<point]
        }
        return !digits.isEmpty && digits.allSatisfy { (0x30...0x39).contains($0) }
    }
}

/// A CSV download written page by page: the header, then every page of rows as it is read. An
/// export is never cut at a page size and never held whole in memory. The first page is read
/// before the response starts, so a refusal (a missing permission) is an error, not a broken file.
struct CSVDownload<Item: Sendable>: Sendable {
    let filename: String
    let header: [String]
    let row: @Sendable (Item) -> [String]
    /// The page after the one that ended with `last` (nil: the first page); empty when done.
    let page: @Sendable (_ last: Item?) async throws -> [Item]

    /// Most pages one download reads (a million rows at a thousand a page).
    static var pagesMax: Int { 1000 }

    func response() async throws -> Response {
        let first = try await page(nil)
        let (header, row, page) = (header, row, page)
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: CSV.line(header)))
            var current = first
            var pages = 0
            while let last = current.last, pages < CSVDownload.pagesMax {
                try await writer.write(ByteBuffer(string: current.map { CSV.line(row($0)) }.joined()))
                pages += 1
                current = try await page(last)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: CSVDownload.headers(filename), body: body)
    }

    /// A CSV file's response headers: its type, its name, and never kept by a cache.
    static func headers(_ filename: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        headers[.cacheControl] = "no-store"
        return headers
    }
}
