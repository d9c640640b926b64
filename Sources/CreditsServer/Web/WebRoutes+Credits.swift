import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// Credits: the pool and wallets with their lots, transfers, "Edit credits", and each wallet's
/// last-30-days log with Download CSV and Print.
extension WebRoutes {
    func addCredits(to portal: RouterGroup<AppRequestContext>) {
        let (pages, credits, administration) = (pages, credits, administration)
        let routes = self
        portal.get("/credits") { request, context in try await routes.creditsPage(request, context) }
        portal.post("/credits/transfer") { _, context in
            try await WebRoutes.submit(context, back: "/credits") { principal, form in
                let input = try form.input(
                    TransferInput.self,
                    ["from": .text, "to": .text, "credits": .number, "note": .optionalText]
                )
                let result = try await credits.transfer(principal, input, idempotencyKey: try form.idempotencyKey())
                return (
                    "/credits",
                    "\(WebFormat.credits(input.credits)) transferred\(result.replayed ? " (already done)" : "")."
                )
            }
        }
        portal.post("/credits/staff/:id") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/credits") { principal, form in
                try principal.require(.manageUserCredits)
                let patch = try form.input(StaffPatch.self, ["credits_per_month": .number])
                _ = try await administration.updateStaff(principal, id, patch)
                guard let target = try form.input(EditCreditsTotal.self, ["total": .number]).total else {
                    return ("/credits", "Credits per month saved.")
                }
                let current = try await credits.view(principal).wallets.first { $0.staffID == id }?.available ?? .zero
                guard target != current else { return ("/credits", "Credits per month saved.") }
                let raise = target > current
                let amount = raise ? target - current : current - target
                _ = try await credits.transfer(
                    principal,
                    TransferInput(
                        from: raise ? "pool" : id,
                        to: raise ? id : "pool",
                        credits: amount,
                        note: "Edit credits"
                    ),
                    idempotencyKey: try form.idempotencyKey()
                )
                return (
                    "/credits",
                    "Credits saved: total \(target.decimalString), \(WebFormat.credits(amount)) \(raise ? "added" : "returned to the pool")."
                )
            }
        }
        portal.get("/credits/log") { request, context in
            let principal = try context.authenticated()
            let wallet = request.uri.queryParameters.get("wallet") ?? "pool"
            let zone = principal.organization.zone
            let (account, lines) = try await routes.lastThirtyDays(principal, wallet: wallet)
            let names = try await routes.administration.actorNames(principal)
            let name =
                account.kind == .pool
                ? "Organisation pool"
                : (try await credits.view(principal).wallets.first { $0.accountID == account.id }?.staffName ?? wallet)
            let values: [String: Any] = [
                "wallet": wallet, "wallet_name": name,
                "csv_href":
                    "/credits/log.csv?wallet=\(wallet.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "pool")",
                "lines": lines.reversed().map { line -> [String: Any] in
                    [
                        "when": WebFormat.time(line.at, in: zone), "description": line.memo,
                        "operation": line.operation,
                        "credits": line.amount.decimalString, "balance": line.balanceAfter.decimalString,
                        "by": names[line.actor] ?? line.actor,
                        "negative": line.amount < .zero,
                    ]
                },
                "truncated": lines.count == CreditService.statementPageMax,
            ]
            return try await pages.page(
                "log",
                title: "Last 30 days: \(name)",
                section: "credits",
                request: request,
                context: context,
                values: values
            )
        }
        portal.get("/credits/log.csv") { request, context in
            let principal = try context.authenticated()
            let wallet = request.uri.queryParameters.get("wallet") ?? "pool"
            let zone = principal.organization.zone
            let since = routes.now().addingTimeInterval(-30 * 86400)
            let (account, _) = try await credits.statement(
                principal,
                account: wallet,
                since: since,
                until: nil,
                afterID: nil,
                limit: 1
            )
            let names = try await routes.administration.actorNames(principal)
            let owner =
                account.kind == .pool
                ? "pool"
                : (try await credits.view(principal).wallets.first { $0.accountID == account.id }?.staffName ?? "wallet")
            return try await PortalCSV.download(
                filename: PortalCSV.filename(
                    principal.organization,
                    ["credits", owner, "last-30-days"],
                    now: routes.now()
                ),
                header: PortalCSV.timeHeader(zone) + [
                    "description", "operation", "credits", "balance", "by", "reference",
                ],
                newestFirst: true,
                row: { line in
                    PortalCSV.times(line.at, in: zone) + [
                        line.memo, line.operation, line.amount.decimalString, line.balanceAfter.decimalString,
                        names[line.actor] ?? line.actor, line.reference ?? "",
                    ]
                }
            ) { last in
                try await credits.statement(
                    principal,
                    account: wallet,
                    since: since,
                    until: nil,
                    afterID: last?.id,
                    limit: CreditService.statementPageMax
                ).lines
            }
        }
    }

    /// A wallet's log of the last 30 days (the page and its CSV show the same lines).
    func lastThirtyDays(_ principal: Principal, wallet: String) async throws -> (LedgerAccount, [StatementLine]) {
        try await credits.statement(
            principal,
            account: wallet,
            since: now().addingTimeInterval(-30 * 86400),
            until: nil,
            afterID: nil,
            limit: CreditService.statementPageMax
        )
    }

    /// The credits page: pool, wallets with their lots, Edit credits and transfers.
    func creditsPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.authenticated()
        let balances = try await credits.view(principal)
        let zone = principal.organization.zone
        let manages = principal.can(.manageUserCredits)
        let wallets = balances.wallets.map { wallet -> [String: Any] in
            var values = WebFormat.account(wallet, zone: zone)
            values["editable"] = manages && wallet.staffID != nil
            return values
        }
        let values: [String: Any] = [
            "pool": WebFormat.account(balances.pool, zone: zone),
            "wallets": wallets,
            "individual": balances.creditMode == .individual,
            "manages": manages,
            "assigned": balances.allotments.assigned.decimalString,
            "unassigned": balances.allotments.unassigned.decimalString,
            "parties": [["id": "pool", "name": "Organisation pool"]]
                + balances.wallets.compactMap { wallet in
                    wallet.staffID.map { ["id": $0, "name": wallet.staffName ?? $0] }
                },
            "idempotency_key": APIKeys.randomText(bytes: 16),
        ]
        return try await pages.page(
            "credits",
            title: "Credits",
            section: "credits",
            request: request,
            context: context,
            values: values
        )
    }
}

/// The "Total credits" box of Edit credits: the wallet's balance to reach by a transfer from or to the pool.
struct EditCreditsTotal: APIInput, Sendable {
    var total: Credits?
    static let fields = JSONFields(["total"])
}
