import CreditsServices
import CreditsStore
import Foundation
import Hummingbird
import NIOFoundationCompat

/// `/v1/webhook-endpoints`: the organisation's outbound webhook endpoints, their secrets and
/// event logs.
struct WebhookEndpointRoutes {
    let webhooks: WebhookService

    func add(to table: RouteTable, group: RouterGroup<AppRequestContext>) {
        let webhooks = webhooks
        table.add(.post, "/v1/webhook-endpoints", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(EndpointInput.self, from: request)
            return try JSONOutput.response(try await webhooks.create(principal, input), status: .created)
        }
        table.add(.get, "/v1/webhook-endpoints", through: group) { _, context in
            let views = try await webhooks.list(try context.authenticated())
            return try JSONOutput.response(Page(data: views, nextCursor: nil))
        }
        table.add(.get, "/v1/webhook-endpoints/{id}", through: group) { _, context in
            try JSONOutput.response(try await webhooks.view(try context.parameter("id"), try context.authenticated()))
        }
        table.add(.patch, "/v1/webhook-endpoints/{id}", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(EndpointInput.self, from: request)
            return try JSONOutput.response(try await webhooks.update(try context.parameter("id"), principal, input))
        }
        table.add(.delete, "/v1/webhook-endpoints/{id}", through: group) { _, context in
            try await webhooks.delete(try context.parameter("id"), try context.authenticated())
            return Response(status: .noContent)
        }
        table.add(.post, "/v1/webhook-endpoints/{id}/rotate-secret", through: group) { request, context in
            let principal = try context.authenticated()
            // The body is optional: without one the old secret overlaps for the default time.
            var request = request
            let body = try await request.collectBody(upTo: JSONInput.bodySizeMax)
            let input =
                body.readableBytes == 0
                ? RotateInput() : try JSONInput.decode(RotateInput.self, from: Data(buffer: body))
            return try JSONOutput.response(try await webhooks.rotate(try context.parameter("id"), principal, input))
        }
        table.add(.get, "/v1/webhook-endpoints/{id}/deliveries", through: group) { request, context in
            let principal = try context.authenticated()
            let limit = try QueryValues.limit(request.query("limit"), fallback: 50, maximum: 200)
            let (views, next) = try await webhooks.deliveries(
                try context.parameter("id"),
                principal,
                before: try QueryValues.recencyCursor(request.query("cursor")),
                limit: limit
            )
            return try JSONOutput.response(Page(data: views, nextCursor: next?.text))
        }
        table.add(.post, "/v1/webhook-endpoints/{id}/deliveries/{delivery}/resend", through: group) { _, context in
            try await webhooks.resend(
                try context.parameter("delivery"),
                endpoint: try context.parameter("id"),
                try context.authenticated()
            )
            return Response(status: .accepted)
        }
    }
}
