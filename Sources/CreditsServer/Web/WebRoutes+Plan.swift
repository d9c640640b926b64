import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// The plan page: the subscription and its next renewal, the catalogue with subscribe, upgrade
/// and downgrade, cancellation, rollover protection, and the plan's invoices.
extension WebRoutes {
    func addPlan(to portal: RouterGroup<AppRequestContext>) {
        let (subscriptions, shortCodes, routes) = (subscriptions, shortCodes, self)
        portal.get("/billing/plan") { request, context in try await routes.planPage(request, context) }
        portal.post("/billing/plan") { _, context in
            try await WebRoutes.submit(context, back: "/billing/plan") { principal, form in
                let input = try form.input(SubscriptionInput.self, ["plan": .text, "cycle": .optionalText])
                let before = try await subscriptions.view(principal)
                let after = try await subscriptions.subscribe(principal, input)
                let notice: String
                if let change = after.scheduledChange {
                    notice =
                        "\(change.planName) (\(change.cycle)) starts when this cycle ends, \(WebFormat.day(change.at, in: principal.organization.zone)); nothing is charged until then."
                } else if before?.plan == after.plan, before?.cycle == after.cycle {
                    notice = "The \(after.planName) plan carries on."
                } else {
                    notice =
                        "You are on the \(after.planName) plan (\(after.cycle)): \(after.credits) plan credits added; see the invoice below."
                }
                return ("/billing/plan", notice)
            }
        }
        portal.post("/billing/plan/cancel") { _, context in
            try await WebRoutes.submit(context, back: "/billing/plan") { principal, _ in
                let view = try await subscriptions.cancel(principal)
                let end = view.endsAt.map { WebFormat.day($0, in: principal.organization.zone) } ?? "the cycle end"
                return (
                    "/billing/plan",
                    "The \(view.planName) plan ends on \(end). Its plan credits last until then; purchased credits never expire."
                )
            }
        }
        portal.post("/billing/short-code") { _, context in
            try await WebRoutes.submit(context, back: "/billing/plan#short-code") { principal, form in
                if form.value("action") == "stop" {
                    let view = try await shortCodes.stop(principal)
                    let end = view.endsAt.map { WebFormat.day($0, in: principal.organization.zone) } ?? "the month end"
                    return (
                        "/billing/plan#short-code",
                        "Keyword \(view.keyword ?? "") stopped: it works until \(end) and is not charged again."
                    )
                }
                let view = try await shortCodes.start(
                    principal,
                    try form.input(ShortCodeInput.self, ["keyword": .text])
                )
                return (
                    "/billing/plan#short-code",
                    "Keyword \(view.keyword ?? "") is yours: \(view.howToJoin ?? "") to join your texts."
                )
            }
        }
        portal.post("/billing/rollover-protection") { _, context in
            try await WebRoutes.submit(context, back: "/billing/plan") { principal, form in
                if form.value("action") == "stop" {
                    _ = try await subscriptions.stopRolloverProtection(principal)
                    return (
                        "/billing/plan", "Rollover protection stopped: plan credits from the next cycle expire again."
                    )
                }
                _ = try await subscriptions.startRolloverProtection(principal)
                return ("/billing/plan", "Rollover protection started: your plan credits no longer expire.")
            }
        }
    }

    /// The plan page.
    func planPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.authenticated()
        try WebPages.require("plan", principal)
        let zone = principal.organization.zone
        let current = try await subscriptions.view(principal)
        let active = current.map { $0.status != "cancelled" } ?? false
        let offered = try await subscriptions.offered(principal)
        let plans: [[String: Any]] = offered.map { plan in
            [
                "id": plan.id, "name": plan.name,
                "credits_per_month": Credits(credits: plan.creditsPerMonth).decimalString,
                "included": plan.includesRolloverProtection,
                "protection": plan.rolloverProtectionMonthly.map { "\($0.text) a month" } ?? "",
                "has_protection_price": plan.rolloverProtectionMonthly != nil,
                "cycles": plan.cycles.map { cycle -> [String: Any] in
                    let isCurrent = active && current?.plan == plan.id && current?.cycle == cycle.cycle
                    return [
                        "cycle": cycle.cycle, "price": cycle.price.text, "total": cycle.total.text,
                        "credits": Credits(credits: cycle.credits).decimalString,
                        "current": isCurrent, "other": !isCurrent,
                        "label": active
                            ? "Switch to \(plan.name) \(cycle.cycle)" : "Subscribe: \(plan.name) \(cycle.cycle)",
                    ]
                },
                "tax": plan.tax ?? "",
                "has_tax": plan.tax != nil,
            ]
        }
        let fees = try await billing.purchases(principal, after: nil, limit: 50).filter {
            [.plan, .rolloverProtection, .monthlyFee, .shortCode].contains($0.kind)
        }
        var values: [String: Any] = [
            "plans": plans, "has_plans": !plans.isEmpty,
            "can_change": principal.can(.purchaseCredits),
            "fees": fees.map { fee -> [String: Any] in
                [
                    "id": fee.id, "description": fee.description, "total": fee.price.total.text,
                    "status": fee.status.rawValue, "paid": fee.status == .succeeded,
                    "number": fee.invoiceNumber ?? "", "when": WebFormat.time(fee.createdAt, in: zone),
                ]
            },
            "has_fees": !fees.isEmpty,
        ]
        let shortCode = try await shortCodes.view(principal)
        if shortCode.offered, let code = shortCode.shortCode {
            values["short_code"] = [
                "code": code, "price": shortCode.monthly?.text ?? "", "keyword": shortCode.keyword ?? "",
                "has_keyword": shortCode.keyword != nil, "ending": shortCode.status == "ending",
                "ends": shortCode.endsAt.map { WebFormat.day($0, in: zone) } ?? "",
                "how": shortCode.howToJoin ?? "",
            ]
        }
        if let current {
            var subscription: [String: Any] = [
                "plan_name": current.planName, "cycle": current.cycle,
                "credits": Credits(credits: current.credits).decimalString,
                "price": current.price?.text ?? "",
                "active": active, "past_due": current.status == "past_due",
                "cancelled": current.status == "cancelled",
                "renews": current.renewsAt.map { WebFormat.day($0, in: zone) } ?? "",
                "renewing": current.renewsAt != nil,
                "ends": current.endsAt.map { WebFormat.day($0, in: zone) } ?? "",
                "ending": current.endsAt != nil,
                "protection_included": current.rolloverProtection == "included",
                "protection_on": current.rolloverProtection == "add_on",
                "protection_off": current.rolloverProtection == "none",
                "protection_price": current.rolloverProtectionPrice.map {
                    "\($0.text) a \(current.cycle == "yearly" ? "year" : "month")"
                }
                    ?? "",
                "protection_offered": current.rolloverProtectionPrice != nil,
            ]
            if let change = current.scheduledChange {
                subscription["change"] = [
                    "plan_name": change.planName, "cycle": change.cycle, "at": WebFormat.day(change.at, in: zone),
                ]
            }
            values["subscription"] = subscription
        }
        return try await pages.page(
            "plan",
            title: "Plan",
            section: "plan",
            request: request,
            context: context,
            values: values
        )
    }
}
