import CreditsAdapters
import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// `/v1/messages`, `/v1/campaigns`, `/v1/conversations`, `/v1/sms/…`.
struct MessageRoutes {
    let messaging: MessagingService
    let conversations: ConversationService
    let registration: RegistrationService

    func add(to table: RouteTable, group: RouterGroup<AppRequestContext>) {
        let (messaging, conversations, registration) = (messaging, conversations, registration)
        table.add(.post, "/v1/messages", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(SendInput.self, from: request)
            return try JSONOutput.response(try await messaging.send(principal, input), status: .created)
        }
        table.add(.post, "/v1/messages/preview", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(SendInput.self, from: request)
            return try JSONOutput.response(try await messaging.preview(principal, input))
        }
        table.add(.get, "/v1/messages/{id}", through: group) { _, context in
            try JSONOutput.response(
                try await messaging.message(try context.parameter("id"), principal: try context.authenticated())
            )
        }
        table.add(.get, "/v1/campaigns", through: group) { request, context in
            let principal = try context.authenticated()
            let limit = try QueryValues.limit(request.query("limit"), fallback: 20, maximum: 100)
            let (views, last) = try await messaging.campaigns(
                principal,
                after: try QueryValues.recencyCursor(request.query("cursor")),
                limit: limit
            )
            return try JSONOutput.response(Page(data: views, nextCursor: views.count == limit ? last?.text : nil))
        }
        table.add(.get, "/v1/campaigns/{id}", through: group) { _, context in
            try JSONOutput.response(
                try await messaging.view(try context.parameter("id"), principal: try context.authenticated())
            )
        }
        table.add(.post, "/v1/campaigns/{id}/cancel", through: group) { _, context in
            try JSONOutput.response(
                try await messaging.cancel(try context.parameter("id"), principal: try context.authenticated())
            )
        }

        table.add(.get, "/v1/conversations", through: group) { request, context in
            let principal = try context.authenticated()
            var filter: ConversationFilter?
            if let text = request.query("status") {
                guard let known = ConversationFilter(rawValue: text) else {
                    throw APIError(
                        .badRequest,
                        "query_invalid",
                        "status is open, closed, unread or flagged.",
                        field: "status"
                    )
                }
                filter = known
            }
            let limit = try QueryValues.limit(request.query("limit"), fallback: 100, maximum: 500)
            let page = try await conversations.list(
                principal,
                filter: filter,
                after: try QueryValues.recencyCursor(request.query("cursor")),
                limit: limit
            )
            let last = page.count == limit ? page.last : nil
            return try JSONOutput.response(
                Page(
                    data: page,
                    nextCursor: last.map { RecencyCursor(milliseconds: $0.lastMessageAt.milliseconds, id: $0.id).text }
                )
            )
        }
        table.add(.get, "/v1/conversations/{id}", through: group) { _, context in
            let (conversation, messages) = try await conversations.conversation(
                try context.authenticated(),
                try context.parameter("id")
            )
            return try JSONOutput.response(ConversationView(conversation: conversation, messages: messages))
        }
        table.add(.patch, "/v1/conversations/{id}", through: group) { request, context in
            let principal = try context.authenticated()
            let patch = try await JSONInput.decode(ConversationPatch.self, from: request)
            let (conversation, messages) = try await conversations.update(principal, try context.parameter("id"), patch)
            return try JSONOutput.response(ConversationView(conversation: conversation, messages: messages))
        }
        table.add(.post, "/v1/conversations/{id}/messages", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(ReplyInput.self, from: request)
            return try JSONOutput.response(
                try await conversations.reply(principal, conversation: try context.parameter("id"), body: input.body),
                status: .created
            )
        }

        table.add(.get, "/v1/sms/setup", through: group) { _, context in
            try JSONOutput.response(try await registration.view(try context.authenticated()))
        }
        table.add(.post, "/v1/sms/brand", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(BrandInput.self, from: request)
            return try JSONOutput.response(
                try await registration.registerBrand(principal, input.brand),
                status: .created
            )
        }
        table.add(.post, "/v1/sms/brand/reset", through: group) { _, context in
            try JSONOutput.response(try await registration.resetBrand(try context.authenticated()))
        }
        // A number request: the setup page's route and the numbers resource take the same body.
        let requestNumber: RouteTable.Handler = { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(NumberInput.self, from: request)
            return try JSONOutput.response(
                try await registration.requestNumber(
                    principal,
                    areaCode: input.areaCode,
                    kind: input.kind,
                    verification: input.verification
                ),
                status: .created
            )
        }
        table.add(.post, "/v1/sms/numbers", through: group, requestNumber)
        table.add(.get, "/v1/numbers", through: group) { _, context in
            let principal = try context.authenticated()
            return try JSONOutput.response(Page(data: try await registration.numbersInUse(principal), nextCursor: nil))
        }
        table.add(.post, "/v1/numbers", through: group, requestNumber)
        table.add(.delete, "/v1/numbers/{id}", through: group) { _, context in
            try await registration.release(try context.authenticated(), try context.parameter("id"))
            return Response(status: .noContent)
        }
    }
}

/// A conversation with its messages.
struct ConversationView: Encodable, Sendable {
    let conversation: Conversation
    let messages: [Message]

    enum CodingKeys: String, CodingKey { case messages }

    func encode(to encoder: any Encoder) throws {
        try conversation.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(messages, forKey: .messages)
    }
}

/// `/webhooks/{provider}/status` and `/webhooks/{provider}/inbound`: signed provider callbacks.
/// An unauthenticated callback changes nothing (403).
struct WebhookRoutes {
    let provider: any SMSProvider
    let settlement: SettlementService
    let inbound: InboundService
    /// The URL the provider was told to call.
    let baseURL: @Sendable () -> String
    /// What a trusted proxy says the addressed URL was.
    let forwarded: ForwardedHeaders

    func add(to table: RouteTable) {
        let routes = self
        table.add(.post, "/webhooks/{provider}/status") { request, context in
            let parameters = try await routes.verified(request, context: context)
            guard let report = WebhookParameters.statusReport(parameters) else {
                throw APIError(
                    .badRequest,
                    "callback_invalid",
                    "This is not a delivery report (MessageSid and MessageStatus are required; NumSegments, when given, is 1–100)."
                )
            }
            try await routes.settlement.apply(report, messageID: request.query("message"))
            return Response(status: .noContent)
        }
        table.add(.post, "/webhooks/{provider}/inbound") { request, context in
            let parameters = try await routes.verified(request, context: context)
            guard let sms = WebhookParameters.inbound(parameters) else {
                throw APIError(
                    .badRequest,
                    "callback_invalid",
                    "This is not an inbound message (MessageSid, From and To are required)."
                )
            }
            try await routes.inbound.handle(sms)
            var headers = HTTPFields()
            headers[.contentType] = "text/xml; charset=utf-8"
            return Response(
                status: .ok,
                headers: headers,
                body: .init(
                    byteBuffer: ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")
                )
            )
        }
    }

    /// The form parameters of a callback whose signature is valid for the URL it was sent to.
    func verified(_ request: Request, context: AppRequestContext) async throws -> [String: String] {
        guard try context.parameter("provider") == provider.name else { throw APIError.notFound("This provider") }
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: 64 * 1024) } catch {
            throw APIError(.contentTooLarge, "body_too_large", "The callback body is too large.")
        }
        let parameters = FormEncoding.decode(String(buffer: body))
        // The signer signs the URL it called: our configured public URL (or where we listen), or,
        // behind a proxy the operator trusts, the URL that proxy says was addressed. The Host
        // header of anyone else is not believed.
        let signature = request.headers.first { $0.name.canonicalName == "x-twilio-signature" }?.value
        var urls = [baseURL() + request.uri.description]
        if let forwardedURL = forwarded.forwardedURL(request, context: context) { urls.append(forwardedURL) }
        guard urls.contains(where: { provider.isAuthentic(url: $0, parameters: parameters, signature: signature) })
        else {
            throw APIError(.forbidden, "signature_invalid", "The request signature is missing or does not match.")
        }
        return parameters
    }
}
