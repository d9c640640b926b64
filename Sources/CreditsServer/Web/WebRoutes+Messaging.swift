import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// Compose (with the live estimate), a campaign's progress, and the Messenger Center.
extension WebRoutes {
    func addMessaging(to portal: RouterGroup<AppRequestContext>) {
        let (contacts, messaging, prices) = (contacts, messaging, prices)
        let routes = self
        portal.get("/compose") { request, context in try await routes.composePage(request, context) }
        portal.post("/compose") { request, context in
            let (principal, form) = try context.webForm()
            return try await WebRoutes.keepingInput {
                let campaign = try await messaging.send(principal, try WebRoutes.sendInput(form, principal))
                let skipped = ComposePreview.skippedSentence(campaign.campaign.skipped)
                return WebResponse.redirect(
                    "/campaigns/\(campaign.campaign.id)",
                    notice: "\(WebFormat.count(campaign.campaign.accepted, "text")) queued; "
                        + "\(WebFormat.credits(campaign.campaign.creditsReserved)) reserved"
                        + (skipped.map { "; \($0)" } ?? ".")
                )
            } refused: { message in
                try await routes.composePage(request, context, typed: form, error: message)
            }
        }
        // The exact send, without sending: the page again with what was typed and the preview.
        portal.post("/compose/preview") { request, context in
            let (principal, form) = try context.webForm()
            return try await WebRoutes.keepingInput {
                let preview = try await messaging.preview(principal, try WebRoutes.sendInput(form, principal))
                return try await routes.composePage(request, context, typed: form, preview: preview)
            } refused: { message in
                try await routes.composePage(request, context, typed: form, error: message)
            }
        }
        // The composer's live preview (JSON): the same dry run as the page's Preview button.
        portal.post("/app/preview") { _, context in
            let (principal, form) = try context.webForm()
            let preview = try await messaging.preview(principal, try WebRoutes.sendInput(form, principal))
            return try JSONOutput.response(ComposePreview(preview, zone: principal.organization.zone))
        }
        // Contacts found as the sender types (name, phone or email), 20 at a time.
        portal.get("/app/contacts") { request, context in
            let principal = try context.authenticated()
            let search = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
            let found =
                search.isEmpty
                ? [] : try await contacts.list(principal, ContactQuery(search: String(search.prefix(100)), limit: 20))
            return try JSONOutput.response(
                found.map {
                    ComposeContact(
                        id: $0.id,
                        name: $0.name,
                        phone: WebFormat.phone($0.phone),
                        consent: $0.consent.rawValue
                    )
                }
            )
        }
        portal.post("/campaigns/:id/cancel") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/campaigns/\(id)") { principal, _ in
                _ = try await messaging.cancel(id, principal: principal)
                return ("/campaigns/\(id)", "Campaign canceled; the credits of unsent texts were released.")
            }
        }
        portal.post("/app/estimate") { request, context in
            try await CreditRoutes.estimate(request, context, prices: prices)
        }
        addInbox(to: portal)
    }

    func addInbox(to portal: RouterGroup<AppRequestContext>) {
        let routes = self
        let (pages, conversations, voice) = (pages, conversations, voice)
        portal.get("/inbox") { request, context in
            let principal = try context.authenticated()
            let filter = request.uri.queryParameters.get("status").flatMap(ConversationFilter.init(rawValue:))
            let list = try await conversations.list(principal, filter: filter, after: nil, limit: 200)
            let zone = principal.organization.zone
            // Voicemails sit beside the texts, newest first, each with its player and transcript.
            let voicemails = try await voice.calls(principal, voicemailOnly: true, after: nil, limit: 10).calls
            let values: [String: Any] = [
                "voicemails": voicemails.map { WebRoutes.callRow($0, zone: zone) },
                "has_voicemails": !voicemails.isEmpty,
                "filters": [
                    ("", "All"), ("unread", "Unread"), ("open", "Open"), ("closed", "Closed"),
                    ("flagged", "Opt-out requests"),
                ].map { value, label in
                    [
                        "href": value.isEmpty ? "/inbox" : "/inbox?status=\(value)", "label": label,
                        "current": (filter?.rawValue ?? "") == value,
                    ]
                },
                "conversations": list.map { conversation -> [String: Any] in
                    [
                        "id": conversation.id, "who": conversation.contactName ?? WebFormat.phone(conversation.phone),
                        "phone": WebFormat.phone(conversation.phone),
                        "number": conversation.number.isEmpty ? "" : WebFormat.phone(conversation.number),
                        "has_number": !conversation.number.isEmpty,
                        "last_message": conversation.lastMessage,
                        "when": WebFormat.time(conversation.lastMessageAt, in: zone),
                        "unread": conversation.unread > 0 ? String(conversation.unread) : false,
                        "status": conversation.status.rawValue,
                        "flagged": conversation.flagged,
                    ]
                },
            ]
            return try await pages.page(
                "inbox",
                title: "Messenger Center",
                section: "inbox",
                request: request,
                context: context,
                values: values
            )
        }
        portal.get("/inbox/:id") { request, context in
            let principal = try context.authenticated()
            let id = try context.parameter("id")
            let (conversation, messages) = try await conversations.conversation(principal, id)
            if conversation.unread > 0 { try await conversations.markRead(principal, id) }
            // The thread shows even when no number can answer it now (the reply then says why).
            let sender = try? await conversations.replyNumber(principal, conversation)
            let zone = principal.organization.zone
            var pictures: [String: [[String: Any]]] = [:]
            for message in messages where message.media != nil {
                pictures[message.id] = try await routes.attachments(message.media, of: principal.organizationID)
            }
            let values: [String: Any] = [
                "conversation": [
                    "id": conversation.id, "who": conversation.contactName ?? WebFormat.phone(conversation.phone),
                    "phone": WebFormat.phone(conversation.phone), "open": conversation.status == .open,
                    "flagged": conversation.flagged, "number": sender.map { WebFormat.phone($0.number) } ?? "none now",
                    "toll_free": sender?.kind == "toll_free", "channel": sender?.textChannel.rawValue ?? "sms",
                ],
                "messages": messages.map { message -> [String: Any] in
                    [
                        "inbound": message.direction == .inbound, "body": message.body,
                        "pictures": pictures[message.id] ?? [],
                        "when": WebFormat.time(message.createdAt, in: zone),
                        "status": message.status.rawValue, "flagged": message.flagged,
                    ]
                },
                "body_max": String(MessageBody.lengthMax),
            ]
            return try await pages.page(
                "conversation",
                title: "Conversation",
                section: "inbox",
                request: request,
                context: context,
                values: values
            )
        }
        portal.post("/inbox/:id/reply") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/inbox/\(id)") { principal, form in
                let input = try form.input(ReplyInput.self, ["body": .text])
                let sent = try await conversations.reply(principal, conversation: id, body: input.body)
                return ("/inbox/\(id)", "Reply queued; \(WebFormat.credits(sent.message.credits)) reserved.")
            }
        }
        portal.post("/inbox/:id") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/inbox/\(id)") { principal, form in
                // Each button sends one change: open/close, or the opt-out flag.
                let patch = try form.input(
                    ConversationPatch.self,
                    form.value("status") != nil ? ["status": .text] : ["flagged": .bool]
                )
                _ = try await conversations.update(principal, id, patch)
                return ("/inbox/\(id)", patch.status == "closed" ? "Conversation closed." : "Conversation updated.")
            }
        }
    }
}
