import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird
import NIOCore

/// The portal's CSV files: the columns and order of the page they come from, people's names
/// rather than ids, the organisation's local time beside UTC, and a file name that says what the
/// file is ("bright-stars-gym-credits-pool-last-30-days-2026-12-05.csv"). Cells are written by
/// `CSV` (formula-safe), every line of the period, never cut at a page.
enum PortalCSV {
    /// A download of every item `page` reads, newest first as the pages show them.
    static func download<Item: Sendable>(
        filename: String,
        header: [String],
        newestFirst: Bool,
        row: @escaping @Sendable (Item) -> [String],
        page: @escaping @Sendable (_ last: Item?) async throws -> [Item]
    ) async throws -> Response {
        guard newestFirst else {
            return try await CSVDownload(filename: filename, header: header, row: row, page: page).response()
        }
        // The store pages oldest first; the page shows newest first, so the file is turned
        // around once every line is read (a bounded period: 30 days, or the dates chosen).
        var items: [Item] = []
        var current = try await page(nil)
        var pages = 0
        while let last = current.last, pages < CSVDownload<Item>.pagesMax {
            items.append(contentsOf: current)
            pages += 1
            current = try await page(last)
        }
        let text = CSV.line(header) + items.reversed().map { CSV.line(row($0)) }.joined()
        return Response(
            status: .ok,
            headers: CSVDownload<Item>.headers(filename),
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }

    /// The two time columns' headings: "time (America/Chicago)", "time (UTC)".
    static func timeHeader(_ zone: TimeZone) -> [String] { ["time (\(zone.identifier))", "time (UTC)"] }

    /// An instant in the organisation's local time ("2026-12-05 22:17:03") and in UTC (ISO 8601).
    static func times(_ instant: Date, in zone: TimeZone) -> [String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
        let two = WebFormat.twoDigits
        let local =
            "\(parts.year ?? 0)-\(two(parts.month ?? 0))-\(two(parts.day ?? 0)) "
            + "\(two(parts.hour ?? 0)):\(two(parts.minute ?? 0)):\(two(parts.second ?? 0))"
        return [local, instant.formatted(.iso8601)]
    }

    /// "bright-stars-gym-audit-log-2026-12-05.csv": the organisation, what the file holds, and the
    /// day it was made (or the dates chosen), in letters, digits and hyphens only.
    static func filename(_ organization: Organization, _ parts: [String], now: Date) -> String {
        let words = ([organization.name] + parts).map(slug).filter { !$0.isEmpty }
        return words.joined(separator: "-") + "-" + iso(day: now, in: organization.zone) + ".csv"
    }

    /// A day as 2026-12-05 in the organisation's zone.
    static func iso(day instant: Date, in zone: TimeZone) -> String {
        String(times(instant, in: zone)[0].prefix(10))
    }

    /// Lowercase letters and digits, other runs of characters as one hyphen.
    static func slug(_ text: String) -> String {
        var result = ""
        for scalar in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                result.unicodeScalars.append(scalar)
            } else if !result.isEmpty, !result.hasSuffix("-") {
                result += "-"
            }
        }
        return result.hasSuffix("-") ? String(result.dropLast()) : result
    }
}
