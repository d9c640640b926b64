import CreditsCore
import CreditsServices
import Hummingbird

/// `/v1/plans`, `/v1/billing/subscription`, `/v1/billing/rollover-protection`,
/// `/v1/billing/short-code`.
struct SubscriptionRoutes {
    let subscriptions: SubscriptionService
    let shortCodes: ShortCodeService

    func add(to table: RouteTable, group: RouterGroup<AppRequestContext>) {
        let (subscriptions, shortCodes) = (subscriptions, shortCodes)
        table.add(.get, "/v1/plans", through: group) { _, context in
            let principal = try context.authenticated()
            return try JSONOutput.response(Page(data: try await subscriptions.offered(principal), nextCursor: nil))
        }
        table.add(.get, "/v1/billing/subscription", through: group) { _, context in
            let principal = try context.authenticated()
            try principal.requireAny(.purchaseCredits, .viewLogs)
            guard let view = try await subscriptions.view(principal) else {
                throw NotFoundError("A plan subscription for this organisation")
            }
            return try JSONOutput.response(view)
        }
        table.add(.put, "/v1/billing/subscription", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(SubscriptionInput.self, from: request)
            return try JSONOutput.response(try await subscriptions.subscribe(principal, input))
        }
        table.add(.delete, "/v1/billing/subscription", through: group) { _, context in
            try JSONOutput.response(try await subscriptions.cancel(try context.authenticated()))
        }
        table.add(.put, "/v1/billing/rollover-protection", through: group) { _, context in
            try JSONOutput.response(try await subscriptions.startRolloverProtection(try context.authenticated()))
        }
        table.add(.delete, "/v1/billing/rollover-protection", through: group) { _, context in
            try JSONOutput.response(try await subscriptions.stopRolloverProtection(try context.authenticated()))
        }
        table.add(.get, "/v1/billing/short-code", through: group) { _, context in
            let principal = try context.authenticated()
            try principal.requireAny(.purchaseCredits, .viewLogs)
            return try JSONOutput.response(try await shortCodes.view(principal))
        }
        table.add(.put, "/v1/billing/short-code", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(ShortCodeInput.self, from: request)
            return try JSONOutput.response(try await shortCodes.start(principal, input))
        }
        table.add(.delete, "/v1/billing/short-code", through: group) { _, context in
            try JSONOutput.response(try await shortCodes.stop(try context.authenticated()))
        }
    }
}
