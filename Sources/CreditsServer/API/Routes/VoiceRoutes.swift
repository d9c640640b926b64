import CreditsAdapters
import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird
import NIOCore

/// `/v1/voice/broadcasts`, `/v1/calls`, `/v1/voicemails`, `/v1/organization/call-forwarding`.
struct VoiceRoutes {
    let voice: VoiceService

    func add(to table: RouteTable, group: RouterGroup<AppRequestContext>) {
        let voice = voice
        table.add(.post, "/v1/voice/broadcasts", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(BroadcastInput.self, from: request)
            return try JSONOutput.response(try await voice.broadcast(principal, input), status: .created)
        }
        table.add(.post, "/v1/voice/broadcasts/estimate", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(BroadcastInput.self, from: request)
            return try JSONOutput.response(try await voice.estimate(principal, input))
        }
        table.add(.get, "/v1/voice/broadcasts/{id}", through: group) { _, context in
            try JSONOutput.response(
                try await voice.view(broadcast: try context.parameter("id"), principal: try context.authenticated())
            )
        }
        table.add(.post, "/v1/calls", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(CallInput.self, from: request)
            return try JSONOutput.response(try await voice.call(principal, input), status: .created)
        }
        table.add(.get, "/v1/calls", through: group) { request, context in
            try await VoiceRoutes.page(request, context: context, voice: voice, voicemailOnly: false)
        }
        table.add(.get, "/v1/calls/{id}", through: group) { _, context in
            try JSONOutput.response(
                try await voice.call(try context.parameter("id"), principal: try context.authenticated())
            )
        }
        table.add(.get, "/v1/voicemails", through: group) { request, context in
            try await VoiceRoutes.page(request, context: context, voice: voice, voicemailOnly: true)
        }
        table.add(.get, "/v1/organization/call-forwarding", through: group) { _, context in
            try JSONOutput.response(try await voice.forwarding(try context.authenticated()))
        }
        table.add(.put, "/v1/organization/call-forwarding", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(ForwardingInput.self, from: request)
            return try JSONOutput.response(try await voice.setForwarding(principal, input))
        }
    }

    static func page(_ request: Request, context: AppRequestContext, voice: VoiceService, voicemailOnly: Bool)
        async throws -> Response
    {
        let principal = try context.authenticated()
        let limit = try QueryValues.limit(request.query("limit"), fallback: 50, maximum: 200)
        let (views, next) = try await voice.calls(
            principal,
            voicemailOnly: voicemailOnly,
            after: try QueryValues.recencyCursor(request.query("cursor")),
            limit: limit
        )
        return try JSONOutput.response(Page(data: views, nextCursor: next?.text))
    }
}

/// `/webhooks/{provider}/voice/…`: the provider asks what to do on a call (answered with TwiML)
/// and reports its progress. Every one is signed; an unsigned request changes nothing (403).
struct VoiceWebhookRoutes {
    let webhooks: WebhookRoutes
    let flow: CallFlowService
    let settlement: CallSettlementService

    func add(to table: RouteTable) {
        let (webhooks, flow, settlement) = (webhooks, flow, settlement)
        table.add(.post, "/webhooks/{provider}/voice/incoming") { request, context in
            let parameters = try await webhooks.verified(request, context: context)
            guard let sid = parameters["CallSid"], !sid.isEmpty, let from = parameters["From"], !from.isEmpty,
                let to = parameters["To"], !to.isEmpty
            else { throw VoiceWebhookRoutes.invalid("CallSid, From and To are required") }
            return VoiceWebhookRoutes.twiml(try await flow.incoming(providerID: sid, from: from, to: to))
        }
        table.add(.post, "/webhooks/{provider}/voice/answer") { request, context in
            let parameters = try await webhooks.verified(request, context: context)
            let callID = try VoiceWebhookRoutes.callID(request)
            let answeredBy = parameters["AnsweredBy"].flatMap { $0.isEmpty ? nil : AnsweredBy(provider: $0) }
            return VoiceWebhookRoutes.twiml(
                try await flow.answer(callID: callID, providerID: parameters["CallSid"] ?? "", answeredBy: answeredBy)
            )
        }
        table.add(.post, "/webhooks/{provider}/voice/keypress") { request, context in
            let parameters = try await webhooks.verified(request, context: context)
            let callID = try VoiceWebhookRoutes.callID(request)
            return VoiceWebhookRoutes.twiml(try await flow.keypress(callID: callID, digits: parameters["Digits"] ?? ""))
        }
        table.add(.post, "/webhooks/{provider}/voice/dialed") { request, context in
            let parameters = try await webhooks.verified(request, context: context)
            let callID = try VoiceWebhookRoutes.callID(request)
            let durationText = parameters["DialCallDuration"].flatMap { $0.isEmpty ? nil : $0 }
            let duration = CallDurations.parse(durationText)
            guard durationText == nil || duration != nil else {
                throw VoiceWebhookRoutes.invalid("DialCallDuration must be 0–86400 seconds")
            }
            let status = parameters["DialCallStatus"].flatMap(WebhookParameters.callStatus)
            let next =
                request.query("next").flatMap { Int($0) }.map { min(max($0, 0), CallForwarding.forwardingNumbersMax) }
                ?? 0
            return VoiceWebhookRoutes.twiml(
                try await flow.dialed(
                    callID: callID,
                    providerID: parameters["CallSid"] ?? "",
                    status: status,
                    duration: duration,
                    next: next
                )
            )
        }
        table.add(.post, "/webhooks/{provider}/voice/recorded") { request, context in
            let parameters = try await webhooks.verified(request, context: context)
            let callID = try VoiceWebhookRoutes.callID(request)
            guard let url = parameters["RecordingUrl"], !url.isEmpty,
                let seconds = CallDurations.parse(parameters["RecordingDuration"])
            else { throw VoiceWebhookRoutes.invalid("RecordingUrl and RecordingDuration (0–86400) are required") }
            return VoiceWebhookRoutes.twiml(
                try await flow.recorded(callID: callID, recordingURL: url, seconds: seconds)
            )
        }
        table.add(.post, "/webhooks/{provider}/voice/transcribed") { request, context in
            let parameters = try await webhooks.verified(request, context: context)
            let callID = try VoiceWebhookRoutes.callID(request)
            let completed = parameters["TranscriptionStatus"] == "completed"
            let text = parameters["TranscriptionText"].map { String($0.unicodeScalars.prefix(5000)) }
            try await settlement.transcription(callID, text: completed ? (text ?? "") : nil)
            return Response(status: .noContent)
        }
        table.add(.post, "/webhooks/{provider}/voice/status") { request, context in
            let parameters = try await webhooks.verified(request, context: context)
            guard let progress = WebhookParameters.callStatus(parameters) else {
                throw VoiceWebhookRoutes.invalid(
                    "CallSid and CallStatus are required; CallDuration, when given, is 0–86400"
                )
            }
            try await settlement.apply(
                CallReport(
                    callID: request.query("call"),
                    providerID: progress.providerID,
                    status: progress.status,
                    duration: progress.duration,
                    answeredBy: progress.answeredBy,
                    errorCode: parameters["ErrorCode"].flatMap { $0.isEmpty ? nil : $0 },
                    errorMessage: parameters["ErrorMessage"]
                )
            )
            return Response(status: .noContent)
        }
    }

    static func invalid(_ what: String) -> APIError {
        APIError(.badRequest, "callback_invalid", "This is not a call callback: \(what).")
    }

    static func callID(_ request: Request) throws -> String {
        guard let id = request.query("call"), !id.isEmpty else { throw invalid("the call query parameter is required") }
        return id
    }

    static func twiml(_ verbs: [TwiML.Verb]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/xml; charset=utf-8"
        return Response(
            status: .ok,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: TwiML.document(verbs)))
        )
    }
}
