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
                // The Agentbox page: "tick to agree to conditions and select Transfer".
                guard form.value("agree") == "yes" else {
                    throw APIError(
                        .unprocessableContent,
                        "agreement_required",
                        "Tick “I agree” to the transfer conditions before transferring.",
                        field: "agree"
                    )
                }
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
            let wallet = WebRoutes.logWallet(request)
            let zone = principal.organization.zone
            let managed = try await credits.managedAccounts(principal)
            let lines = try await routes.lastThirtyDays(principal, wallet: wallet)
            let names = try await routes.administration.actorNames(principal)
            let name =
                wallet.map { chosen in managed.first { $0.reference == chosen }?.name ?? chosen } ?? "All accounts"
            let query =
                wallet.map { "?wallet=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" } ?? ""
            let values: [String: Any] = [
                "wallet_name": name,
                "combined": wallet == nil,
                "accounts": [["id": "", "name": "All accounts", "selected": wallet == nil]]
                    + managed.map { ["id": $0.reference, "name": $0.name, "selected": $0.reference == wallet] },
                "choose": managed.count > 1,
                "csv_href": "/credits/log.csv\(query)",
                "lines": lines.reversed().map { line -> [String: Any] in
                    [
                        "when": WebFormat.time(line.at, in: zone), "description": line.memo,
                        "account": line.accountName ?? "", "operation": line.operation,
                        "credits": line.amount.decimalString, "balance": line.balanceAfter.decimalString,
                        "by": names[line.actor] ?? line.actor,
                        "negative": line.amount < .zero,
                    ]
                },
                "truncated": Set(lines.map(\.id)).count == CreditService.statementPageMax,
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
            let wallet = WebRoutes.logWallet(request)
            let zone = principal.organization.zone
            let since = routes.now().addingTimeInterval(-30 * 86400)
            let managed = try await credits.managedAccounts(principal)
            _ = try await credits.combinedStatement(
                principal,
                only: wallet,
                since: since,
                until: nil,
                afterID: nil,
                limit: 1
            )
            let names = try await routes.administration.actorNames(principal)
            let owner =
                wallet.map { chosen in managed.first { $0.reference == chosen }?.name ?? "wallet" } ?? "all-accounts"
            return try await PortalCSV.download(
                filename: PortalCSV.filename(
                    principal.organization,
                    ["credits", owner, "last-30-days"],
                    now: routes.now()
                ),
                header: PortalCSV.timeHeader(zone) + [
                    "account", "description", "operation", "credits", "balance", "by", "reference",
                ],
                newestFirst: true,
                row: { line in
                    PortalCSV.times(line.at, in: zone) + [
                        line.accountName ?? "", line.memo, line.operation, line.amount.decimalString,
                        line.balanceAfter.decimalString, names[line.actor] ?? line.actor, line.reference ?? "",
                    ]
                }
            ) { last in
                try await credits.combinedStatement(
                    principal,
                    only: wallet,
                    since: since,
                    until: nil,
                    afterID: last?.id,
                    limit: CreditService.statementPageMax
                )
            }
        }
        portal.get("/app/staff/:id/credit-capacity") { request, context in
            let principal = try context.authenticated()
            let credits = try QueryValues.credits(request.uri.queryParameters.get("credits"), field: "credits")
            return try JSONOutput.response(
                try await administration.creditCapacity(principal, try context.parameter("id"), credits: credits)
            )
        }
        portal.post("/credits/mode") { _, context in
            try await WebRoutes.submit(context, back: "/credits") { principal, form in
                let view = try await credits.setCreditMode(
                    principal,
                    try form.input(CreditModeInput.self, ["mode": .text])
                )
                return (
                    "/credits",
                    view.creditMode == .individual
                        ? "Individual user credits are on: each staff member has a wallet; the pool is now the system credits."
                        : "Shared credits are on: every wallet's credits are back in the pool."
                )
            }
        }
    }

    /// The account a log page or file is about; nil (or "all") for every account one manages.
    static func logWallet(_ request: Request) -> String? {
        guard let wallet = request.uri.queryParameters.get("wallet"), !wallet.isEmpty, wallet != "all" else {
            return nil
        }
        return String(wallet)
    }

    /// The last 30 days of one account, or of every account one manages (the page and its CSV
    /// show the same lines).
    func lastThirtyDays(_ principal: Principal, wallet: String?) async throws -> [StatementLine] {
        try await credits.combinedStatement(
            principal,
            only: wallet,
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
        let individual = balances.creditMode == .individual
        let mine = balances.wallets.first { $0.staffID == principal.staff.id }
        let wallets = balances.wallets.map { wallet -> [String: Any] in
            var values = WebFormat.account(wallet, zone: zone)
            values["editable"] = manages && wallet.staffID != nil
            return values
        }
        // Master users move credits between the system and anyone; others send their own back.
        let everyone: [[String: Any]] =
            [["id": "pool", "name": "System credits"]]
            + balances.wallets.compactMap { wallet in wallet.staffID.map { ["id": $0, "name": wallet.staffName ?? $0] }
            }
        let values: [String: Any] = [
            "pool": WebFormat.account(balances.pool, zone: zone),
            "wallets": wallets,
            "individual": individual,
            "shared": !individual,
            "manages": manages,
            "transfers": manages || (individual && mine != nil),
            "from_parties": manages
                ? everyone : mine.map { _ in [["id": principal.staff.id, "name": "My credits"]] } ?? [],
            "to_parties": manages ? everyone : [["id": "pool", "name": "System credits"]],
            "is_owner": principal.staff.role == .owner,
            "assigned": balances.allotments.assigned.decimalString,
            "unassigned": balances.allotments.unassigned.decimalString,
            "company_credits": balances.pool.available.decimalString,
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
