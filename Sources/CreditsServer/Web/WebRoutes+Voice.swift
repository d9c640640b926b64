import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// Voice in the portal: the broadcast composer with its estimate, a broadcast's progress,
/// click-to-call, call forwarding, and the calls made and received.
extension WebRoutes {
    func addVoice(to portal: RouterGroup<AppRequestContext>) {
        let routes = self
        let voice = voice
        portal.get("/voice") { request, context in try await routes.voicePage(request, context) }
        // The exact broadcast, without sending: the page again with what was typed and its estimate.
        portal.post("/voice/estimate") { request, context in
            let (principal, form) = try context.webForm()
            return try await WebRoutes.keepingInput {
                let estimate = try await voice.estimate(principal, try WebRoutes.broadcastInput(form))
                return try await routes.voicePage(request, context, typed: form, estimate: estimate)
            } refused: { message in
                try await routes.voicePage(request, context, typed: form, error: message)
            }
        }
        // The composer's live estimate (JSON).
        portal.post("/app/voice-estimate") { _, context in
            let (principal, form) = try context.webForm()
            let estimate = try await voice.estimate(principal, try WebRoutes.broadcastInput(form))
            return try JSONOutput.response(VoiceEstimateText(estimate))
        }
        portal.post("/voice/broadcasts") { request, context in
            let (principal, form) = try context.webForm()
            return try await WebRoutes.keepingInput {
                let broadcast = try await voice.broadcast(principal, try WebRoutes.broadcastInput(form))
                let skipped = broadcast.skipped.values.reduce(0, +)
                return WebResponse.redirect(
                    "/voice/broadcasts/\(broadcast.id)",
                    notice: "\(WebFormat.count(broadcast.accepted, "call")) queued; "
                        + "\(WebFormat.credits(broadcast.creditsReserved)) reserved"
                        + (skipped > 0 ? "; \(WebFormat.count(skipped, "recipient")) skipped." : ".")
                )
            } refused: { message in
                try await routes.voicePage(request, context, typed: form, error: message)
            }
        }
        portal.get("/voice/broadcasts/:id") { request, context in
            try await routes.broadcastPage(request, context)
        }
        portal.post("/voice/calls") { _, context in
            try await WebRoutes.submit(context, back: "/voice") { principal, form in
                let call = try await voice.call(
                    principal,
                    CallInput(
                        contact: form.trimmed("contact"),
                        to: form.trimmed("to"),
                        staff: form.trimmed("staff")
                    )
                )
                return (
                    "/voice",
                    "Calling you at \(WebFormat.phone(call.staffPhone ?? "")); answer to be connected to \(WebFormat.phone(call.to)). Up to \(call.timeLimit / 60) minutes (\(WebFormat.credits(call.creditsHeld)) held)."
                )
            }
        }
        portal.post("/voice/forwarding") { _, context in
            try await WebRoutes.submit(context, back: "/voice#forwarding") { principal, form in
                let numbers = form.phoneList("numbers")
                let saved = try await voice.setForwarding(
                    principal,
                    ForwardingInput(
                        enabled: form.value("enabled") == "on",
                        numbers: numbers,
                        ringMode: form.value("ring_mode").flatMap(CallForwarding.RingMode.init(rawValue:)),
                        ringSeconds: form.value("ring_seconds").flatMap { Int($0) },
                        greeting: form.trimmed("greeting"),
                        transcribe: form.value("transcribe") == "on"
                    )
                )
                return (
                    "/voice#forwarding",
                    saved.enabled
                        ? "Calls are forwarded to \(saved.numbers.map(WebFormat.phone).joined(separator: ", "))."
                        : "Call forwarding is off: calls go to voicemail."
                )
            }
        }
    }

    /// A broadcast request from the composer's form.
    static func broadcastInput(_ form: WebForm) throws -> BroadcastInput {
        let phones = form.phoneList("to")
        let audio = form.trimmed("audio")
        let text = form.value("say") ?? ""
        var input = BroadcastInput(
            to: phones.isEmpty ? nil : phones,
            groups: form.values("groups").isEmpty ? nil : form.values("groups"),
            audio: form.value("message") == "audio" ? audio : nil,
            say: form.value("message") == "audio"
                ? nil
                : SayInput(
                    text: text,
                    voice: form.trimmed("voice"),
                    language: form.trimmed("language")
                ),
            machineDetection: form.value("machine_detection").flatMap(MachineDetection.init(rawValue:)),
            overrideSendingHours: form.value("override_sending_hours") == "on"
        )
        input.contacts = form.values("contacts").isEmpty ? nil : form.values("contacts")
        return input
    }

    func voicePage(
        _ request: Request,
        _ context: AppRequestContext,
        typed: WebForm? = nil,
        estimate: BroadcastEstimate? = nil,
        error: String? = nil
    ) async throws -> Response {
        let principal = try context.authenticated()
        let zone = principal.organization.zone
        let chosenGroups = Set(typed?.values("groups") ?? [])
        let forwarding = try await voice.forwarding(principal)
        let calls = try await voice.calls(principal, after: nil, limit: 20).calls
        let message = typed?.value("message") ?? "say"
        let detection = typed?.value("machine_detection") ?? "off"
        let (voiceChosen, languageChosen) = (typed?.value("voice"), typed?.value("language"))
        var values: [String: Any] = [
            "groups": try await contacts.groups(principal).map {
                ["name": $0.name, "checked": chosenGroups.contains($0.name)] as [String: Any]
            },
            "to": typed?.value("to") ?? "",
            "say": typed?.value("say") ?? "",
            "audio_id": typed?.value("audio") ?? "",
            "has_audio": !(typed?.value("audio") ?? "").isEmpty,
            "say_checked": message != "audio", "audio_checked": message == "audio",
            "voices": ["woman", "man", "alice", "Polly.Joanna", "Polly.Matthew"].map {
                (voice: String) -> [String: Any] in
                ["value": voice, "selected": voiceChosen == voice]
            },
            "languages": ["en-US", "en-GB", "es-US", "fr-CA"].map { (language: String) -> [String: Any] in
                ["value": language, "selected": languageChosen == language]
            },
            "detections": [
                ("off", "Off — play to whoever answers"),
                ("leave_message", "Leave the message after the beep (+0.5 a number)"),
                ("hang_up", "Hang up on answering machines (+0.5 a number)"),
            ].map { ["value": $0.0, "label": $0.1, "selected": detection == $0.0] as [String: Any] },
            "override_checked": typed?.value("override_sending_hours") == "on",
            "may_override": principal.can(.overrideSendingHours),
            "prices": [
                "minute": WebFormat.credits(prices.voiceBroadcastMinute),
                "detection": WebFormat.credits(prices.machineDetection),
                "call": WebFormat.credits(prices.outgoingCallMinute),
                "forward": WebFormat.credits(prices.callForwardingMinute),
                "voicemail": WebFormat.credits(prices.voicemail),
                "transcription": WebFormat.credits(prices.transcription),
            ],
            "may_forward": principal.can(.manageSettings),
            "forwarding": [
                "enabled": forwarding.enabled,
                "numbers": forwarding.numbers.joined(separator: "\n"),
                "sequential": forwarding.ringMode == .sequential,
                "simultaneous": forwarding.ringMode == .simultaneous,
                "ring_seconds": String(forwarding.ringSeconds),
                "greeting": forwarding.greeting,
                "transcribe": forwarding.transcribe,
                "summary": forwarding.enabled
                    ? "On: \(forwarding.numbers.map(WebFormat.phone).joined(separator: ", ")), \(forwarding.ringMode == .sequential ? "one after another" : "all together"), \(forwarding.ringSeconds) seconds."
                    : "Off: every call goes to voicemail.",
            ],
            "calls": calls.map { WebRoutes.callRow($0, zone: zone) },
            "has_calls": !calls.isEmpty,
        ]
        if let estimate { values["estimate"] = VoiceEstimateText(estimate).values }
        return try await pages.page(
            "voice",
            title: "Voice",
            section: "voice",
            request: request,
            context: context,
            values: values,
            status: error == nil ? .ok : .unprocessableContent,
            refusal: error
        )
    }

    static func callRow(_ call: CallView, zone: TimeZone) -> [String: Any] {
        let kind: String =
            switch call.kind {
            case .broadcast: "Voice message"
            case .outgoing: "Outgoing call"
            case .forwarded: "Incoming call"
            }
        var row: [String: Any] = [
            "id": call.id, "kind": kind, "who": WebFormat.phone(call.to), "status": call.statusLabel,
            "when": WebFormat.time(call.createdAt, in: zone),
            "minutes": call.duration.map { "\(PriceList.startedMinutes($0)) min" } ?? "—",
            "charged": call.creditsCharged.map(WebFormat.credits) ?? "\(WebFormat.credits(call.creditsHeld)) held",
        ]
        // Every key is set (false when empty): a missing one would be looked up on the page.
        row["voicemail"] =
            call.voicemail.map {
                [
                    "media": $0.media, "seconds": String($0.seconds), "transcription": $0.transcription ?? false,
                ] as [String: Any]
            } ?? false
        row["note"] = call.note ?? false
        row["opted_out"] = call.optedOut
        return row
    }

    func broadcastPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.authenticated()
        let id = try context.parameter("id")
        let broadcast = try await voice.view(broadcast: id, principal: principal)
        let zone = principal.organization.zone
        let calls = try await voice.calls(ofBroadcast: id, principal: principal, limit: 200)
        let order: [CallStatus] = [.queued, .dialing, .inProgress, .completed, .noAnswer, .busy, .failed, .canceled]
        let values: [String: Any] = [
            "id": broadcast.id,
            "status": broadcast.status,
            "live": broadcast.status != "completed",
            "message": broadcast.say?.text ?? "Recorded audio (\(broadcast.seconds) seconds)",
            "from": WebFormat.phone(broadcast.from),
            "seconds": String(broadcast.seconds),
            "detection": broadcast.machineDetection.rawValue.replacingOccurrences(of: "_", with: " "),
            "accepted": String(broadcast.accepted),
            "reserved": WebFormat.credits(broadcast.creditsReserved),
            "charged": WebFormat.credits(broadcast.creditsCharged),
            "machines": String(broadcast.answeredByMachine),
            "pressed_nine": String(broadcast.optedOut),
            "skipped": broadcast.skipped.isEmpty
                ? false
                : broadcast.skipped.sorted { $0.key.rawValue < $1.key.rawValue }
                    .map { "\($0.value) \($0.key.rawValue.replacingOccurrences(of: "_", with: " "))" }
                    .joined(separator: ", "),
            "counts": order.map { status in
                ["status": status.label, "count": String(broadcast.calls[status.rawValue] ?? 0)] as [String: Any]
            },
            "calls": calls.map { WebRoutes.callRow($0, zone: zone) },
            "created": WebFormat.time(broadcast.createdAt, in: zone),
        ]
        return try await pages.page(
            "voice-broadcast",
            title: "Voice broadcast",
            section: "voice",
            request: request,
            context: context,
            values: values
        )
    }
}

/// A broadcast's estimate in the words the composer shows.
struct VoiceEstimateText: Encodable {
    let recipients: Int
    let summary: String
    let skipped: String?
    let total: String

    init(_ estimate: BroadcastEstimate) {
        recipients = estimate.recipients
        let each = WebFormat.credits(estimate.creditsPerRecipient)
        summary =
            "\(WebFormat.count(estimate.recipients, "recipient")) × \(each) (\(WebFormat.count(estimate.minutes, "minute")) at 2\(estimate.machineDetection.isOn ? " + 0.5 detection" : "")) = \(WebFormat.credits(estimate.creditsTotal)). \(WebFormat.credits(estimate.available)) available."
        let count = estimate.skipped.values.reduce(0, +)
        skipped =
            count == 0
            ? nil : "\(WebFormat.count(count, "recipient")) will be skipped (opted out, never opted in or duplicates)."
        total = WebFormat.credits(estimate.creditsTotal)
    }

    var values: [String: Any] {
        var values: [String: Any] = ["summary": summary, "total": total]
        if let skipped { values["skipped"] = skipped }
        return values
    }
}
