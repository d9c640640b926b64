import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// The audit log and the billing transactions: filters, Download CSV and Print.
extension WebRoutes {
    func addLogs(to portal: RouterGroup<AppRequestContext>) {
        let (pages, billing, auditLog, now) = (pages, billing, auditLog, now)
        portal.get("/audit-log") { request, context in
            let principal = try context.authenticated()
            let zone = principal.organization.zone
            let filter = try LogFilter(request, zone: zone)
            let entries = try await WebRoutes.audit(principal, filter, auditLog: auditLog, limit: 500)
            let values: [String: Any] = [
                "filter": filter.values, "csv_href": "/audit-log.csv" + filter.query,
                "entries": entries.map {
                    [
                        "when": WebFormat.time($0.at, in: zone), "actor": $0.actorName, "action": $0.action,
                        "message": $0.message,
                    ]
                },
                "truncated": entries.count == 500,
            ]
            return try await pages.page(
                "audit",
                title: "Audit log",
                section: "audit",
                request: request,
                context: context,
                values: values
            )
        }
        portal.get("/audit-log.csv") { request, context in
            let principal = try context.authenticated()
            let zone = principal.organization.zone
            let filter = try LogFilter(request, zone: zone)
            try WebPages.require("audit", principal)
            return try await PortalCSV.download(
                filename: PortalCSV.filename(principal.organization, ["audit-log"] + filter.nameParts, now: now()),
                header: PortalCSV.timeHeader(zone) + ["who", "what happened", "action"],
                newestFirst: false,
                row: { PortalCSV.times($0.at, in: zone) + [$0.actorName, $0.message, $0.action] }
            ) { last in
                try await auditLog.entries(
                    principal,
                    AuditQuery(
                        since: filter.since,
                        until: filter.until,
                        action: filter.action,
                        afterID: last?.id,
                        limit: AuditLog.pageMax
                    )
                )
            }
        }
        portal.get("/billing/transactions") { request, context in
            let principal = try context.authenticated()
            let zone = principal.organization.zone
            let filter = try LogFilter(request, zone: zone)
            let lines = try await billing.transactions(principal, since: filter.since, until: filter.until)
            let values: [String: Any] = [
                "filter": filter.values, "csv_href": "/billing/transactions.csv" + filter.query,
                "lines": try lines.reversed().map { line -> [String: Any] in
                    var values = try JSONValue.of(line).template as? [String: Any] ?? [:]
                    values["when"] = WebFormat.time(line.at, in: zone)
                    values["invoice_href"] =
                        line.invoice.map { $0.replacingOccurrences(of: "/v1/invoices/", with: "/invoices/") } ?? false
                    return values
                },
            ]
            return try await pages.page(
                "transactions",
                title: "Billing transactions",
                section: "billing",
                request: request,
                context: context,
                values: values
            )
        }
        portal.get("/billing/transactions.csv") { request, context in
            let principal = try context.authenticated()
            let zone = principal.organization.zone
            let filter = try LogFilter(request, zone: zone)
            return try await PortalCSV.download(
                filename: PortalCSV.filename(
                    principal.organization,
                    ["billing-transactions"] + filter.nameParts,
                    now: now()
                ),
                header: PortalCSV.timeHeader(zone) + [
                    "what", "wallet", "credits", "amount", "invoice", "credits subtotal", "amount subtotal",
                ],
                newestFirst: true,
                row: { line in
                    PortalCSV.times(line.at, in: zone) + [
                        line.description, line.wallet, line.credits.decimalString, line.amount?.text ?? "",
                        line.invoice ?? "", line.creditsSubtotal.decimalString, line.amountSubtotal.text,
                    ]
                }
            ) { last in
                try await billing.transactions(
                    principal,
                    since: filter.since,
                    until: filter.until,
                    after: last.map(StatementPosition.init(after:))
                )
            }
        }
    }

    static func audit(_ principal: Principal, _ filter: LogFilter, auditLog: AuditLog, limit: Int) async throws
        -> [AuditEntry]
    {
        try WebPages.require("audit", principal)
        return try await auditLog.entries(
            principal,
            AuditQuery(
                since: filter.since,
                until: filter.until,
                action: filter.action,
                actorID: nil,
                subjectID: nil,
                afterID: nil,
                limit: limit
            )
        )
    }
}

/// The filters of a log page: a date range in the organisation's days, and (audit log) an action.
struct LogFilter {
    let from: String?
    let to: String?
    let action: String?
    let since: Date?
    let until: Date?

    init(_ request: Request, zone: TimeZone) throws {
        func text(_ name: String) -> String? { request.uri.queryParameters.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        from = text("from")
        to = text("to")
        action = text("action")
        since = try WebFormat.localDay(from, zone: zone, field: "from")
        until = try WebFormat.localDay(to, zone: zone, field: "to", next: true)
    }

    var values: [String: Any] { ["from": from ?? "", "to": to ?? "", "action": action ?? ""] }

    /// What a CSV's file name says of the filters: "from-2026-11-01", "to-2026-11-30".
    var nameParts: [String] {
        [from.map { "from-\($0)" }, to.map { "to-\($0)" }, action].compactMap { $0 }
    }

    /// The same filters as a query string for the CSV link.
    var query: String {
        let pairs = [("from", from), ("to", to), ("action", action)].compactMap { name, value in
            value.map { (name, $0) }
        }
        return WebRoutes.link("", pairs)
    }
}
