import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// Contacts and groups: find, add, edit and delete contacts, record how they agreed to be texted
/// (or that they withdrew), and keep groups. Everyone in the organisation may, as with `/v1`.
/// A refused form comes back with what was typed and the sentence saying why (422).
extension WebRoutes {
    /// Contacts one page of the list shows.
    static let contactsPerPage = 50

    func addContacts(to portal: RouterGroup<AppRequestContext>) {
        let (routes, contacts) = (self, contacts)
        portal.get("/contacts") { request, context in
            try await routes.contactsPage(request, context, typed: nil, error: nil)
        }
        portal.post("/contacts") { request, context in
            let (principal, form) = try context.webForm()
            return try await WebRoutes.keepingInput {
                let added = try await contacts.create(principal, try WebRoutes.newContact(form))
                let created = added.contact
                let consent = created.consent == .optedIn ? " and opted in" + WebRoutes.signupClause(added.signup) : ""
                return WebResponse.redirect("/contacts/\(created.id)", notice: "\(created.name) added\(consent).")
            } refused: { message in
                try await routes.contactsPage(request, context, typed: form, error: message)
            }
        }
        portal.get("/contacts/:id") { request, context in
            try await routes.contactPage(request, context, typed: nil, error: nil)
        }
        portal.post("/contacts/:id") { request, context in
            let (principal, form) = try context.webForm()
            let id = try context.parameter("id")
            return try await WebRoutes.keepingInput {
                let updated = try await contacts.update(principal, id, try WebRoutes.contactPatch(form))
                return WebResponse.redirect("/contacts/\(updated.id)", notice: "\(updated.name) saved.")
            } refused: { message in
                try await routes.contactPage(request, context, typed: form, error: message)
            }
        }
        portal.post("/contacts/:id/consent") { request, context in
            let (principal, form) = try context.webForm()
            let id = try context.parameter("id")
            return try await WebRoutes.keepingInput {
                let input = try form.input(ConsentInput.self, ["state": .text, "basis": .optionalText])
                if input.state == .optedIn, input.basis == nil {
                    throw APIError.invalid(
                        "basis",
                        "Say how they agreed to receive texts (for example, signed the enrolment form).",
                        code: "field_required"
                    )
                }
                let detail = try await contacts.setConsent(principal, id, input)
                // An opt-in without a signup outcome found the number already opted in.
                let notice =
                    switch (input.state, detail.signup) {
                    case (.optedIn, nil): "\(detail.contact.name) was already opted in; the reason is recorded."
                    case (.optedIn, let signup):
                        "\(detail.contact.name) opted in" + WebRoutes.signupClause(signup) + "."
                    default: "\(detail.contact.name) opted out; they will not be texted."
                    }
                return WebResponse.redirect("/contacts/\(id)", notice: notice)
            } refused: { message in
                try await routes.contactPage(request, context, typed: form, error: message)
            }
        }
        portal.post("/contacts/:id/delete") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/contacts/\(id)") { principal, _ in
                let contact = try await contacts.detail(principal, id).contact
                try await contacts.delete(principal, id)
                return (
                    "/contacts",
                    "\(contact.name) deleted."
                        + (contact.consent == .optedOut ? " Their opt-out is kept: the number stays unreachable." : "")
                )
            }
        }
        addGroups(to: portal)
    }

    /// The list with its filters, and the form to add a contact.
    func contactsPage(_ request: Request, _ context: AppRequestContext, typed: WebForm?, error: String?)
        async throws -> Response
    {
        let principal = try context.authenticated()
        let search = request.query("search")
        let group = request.query("group")?.lowercased()
        let consent = request.query("consent").flatMap(ConsentState.init(rawValue:))
        let cursor = request.query("cursor")
        let page = try await contacts.list(
            principal,
            ContactQuery(
                group: group,
                consent: consent,
                search: search,
                afterID: cursor,
                limit: WebRoutes.contactsPerPage
            )
        )
        let groups = try await contacts.groupNames(principal)
        let zone = principal.organization.zone
        var filters: [(String, String)] = []
        if let search { filters.append(("search", search)) }
        if let group { filters.append(("group", group)) }
        if let consent { filters.append(("consent", consent.rawValue)) }
        var values: [String: Any] = [
            "search": search ?? "",
            "filtered": !filters.isEmpty,
            "has_contacts": !page.isEmpty,
            "group_options": groups.map { option -> [String: Any] in
                ["name": option, "selected": option == group]
            },
            "consent_options": ConsentState.allCases.map { state -> [String: Any] in
                ["value": state.rawValue, "label": WebRoutes.consentLabel(state), "selected": state == consent]
            },
            "contacts": page.map { contact -> [String: Any] in
                var row: [String: Any] = [
                    "id": contact.id, "name": contact.name, "phone": WebFormat.phone(contact.phone),
                    "email": contact.email ?? "", "groups": contact.groups.joined(separator: ", "),
                    "consent": contact.consent.rawValue, "consent_label": WebRoutes.consentLabel(contact.consent),
                ]
                if let since = contact.consentChangedAt { row["consent_since"] = WebFormat.day(since, in: zone) }
                return row
            },
            "new": WebRoutes.contactFormValues(nil, typed: typed, groups: groups),
        ]
        // Mustache shows a section for any string, even an empty one: links are left out when absent.
        if cursor != nil { values["first_page"] = WebRoutes.link("/contacts", filters) }
        if page.count == WebRoutes.contactsPerPage, let last = page.last {
            values["next_page"] = WebRoutes.link("/contacts", filters + [("cursor", last.id)])
        }
        return try await pages.page(
            "contacts",
            title: "Contacts",
            section: "contacts",
            request: request,
            context: context,
            values: values,
            refusal: error
        )
    }

    /// One contact: the edit form, consent with its history, and delete.
    func contactPage(_ request: Request, _ context: AppRequestContext, typed: WebForm?, error: String?)
        async throws -> Response
    {
        let principal = try context.authenticated()
        let detail = try await contacts.detail(principal, try context.parameter("id"))
        let contact = detail.contact
        let groups = try await contacts.groupNames(principal)
        let names = try await administration.actorNames(principal)
        let zone = principal.organization.zone
        let stoppedByRecipient = detail.consentHistory.last.map { $0.state == .optedOut && $0.source.isRecipient }
        let values: [String: Any] = [
            "contact": WebRoutes.contactFormValues(contact, typed: typed, groups: groups),
            "consent": contact.consent.rawValue,
            "consent_label": WebRoutes.consentLabel(contact.consent),
            "opted_in": contact.consent == .optedIn,
            "stopped_by_recipient": stoppedByRecipient ?? false,
            "has_history": !detail.consentHistory.isEmpty,
            "has_signup": !principal.organization.smsSettings.signupMessage.isEmpty,
            "history": detail.consentHistory.reversed().map { event -> [String: Any] in
                var entry: [String: Any] = [
                    "when": WebFormat.time(event.at, in: zone),
                    "state": event.state.rawValue,
                    "what": WebRoutes.consentSentence(event, names: names),
                ]
                if let optIn = event.optIn { entry["opt_in"] = WebRoutes.optInRecord(optIn, zone: zone) }
                return entry
            },
            "basis": typed?.value("basis") ?? "",
        ]
        return try await pages.page(
            "contact",
            title: contact.name,
            section: "contacts",
            request: request,
            context: context,
            values: values,
            refusal: error
        )
    }

    /// Runs a form's action; when it is refused, shows the form's page again with what was typed
    /// and the sentence saying why (nothing was changed). Something not found in the organisation,
    /// or not allowed to this person, gets its own page (404, 403), as any other page would.
    static func keepingInput(
        _ action: () async throws -> Response,
        refused: (String) async throws -> Response
    ) async throws -> Response {
        do {
            return try await action()
        } catch let error as any DomainError where error.kind != .notFound && error.kind != .forbidden {
            return try await refused(error.message)
        } catch let error as APIError {
            return try await refused(error.message)
        } catch StoreError.busy {
            return try await refused(APIError.storeBusy.message)
        }
    }

    /// What became of the signup message, as the end of a sentence.
    static func signupClause(_ outcome: SignupOutcome?) -> String {
        switch outcome {
        case .queued: "; the signup message is on its way"
        case .noMessageSet: " (no signup message is set in SMS settings, so none was sent)"
        case .notSent(let reason):
            "; the signup message was not sent: \(reason.hasSuffix(".") ? String(reason.dropLast()) : reason)"
        case nil: ""
        }
    }

    /// "Opted in", "Opted out", "Not opted in".
    static func consentLabel(_ state: ConsentState) -> String {
        switch state {
        case .optedIn: "Opted in"
        case .optedOut: "Opted out"
        case .pending: "Not opted in"
        }
    }

    /// How one consent change came about, as a sentence: who, how, and in what words.
    static func consentSentence(_ event: ConsentEvent, names: [String: String]) -> String {
        let change = event.state == .optedIn ? "Opted in" : "Opted out"
        let who = names[event.actor] ?? (event.actor.hasPrefix("staff:") ? "a former staff member" : event.actor)
        switch event.source {
        case .keyword where event.optIn != nil:
            let source = event.optIn?.source.label ?? ""
            let text = (event.rawText ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(change) on the \(source), confirmed by texting “\(text)”"
        case .keyword:
            return "\(change) by texting “\((event.rawText ?? "").trimmingCharacters(in: .whitespacesAndNewlines))”"
        case .keypress:
            return "\(change) by pressing 9 during a voice message"
        case .import:
            return "\(change) by an import by \(who)" + (event.basis.map { ": \($0)" } ?? "")
        case .staff, .api:
            let basis = event.basis.map { ": \($0)" } ?? " (no reason given)"
            return "\(change) by \(who)\(event.source == .api ? " through the API" : "")\(basis)"
        }
    }

    /// The add / edit form's values: the contact's, or what was typed when a save was refused.
    static func contactFormValues(_ contact: Contact?, typed: WebForm?, groups: [String]) -> [String: Any] {
        let chosen = Set(typed.map { $0.values("groups") } ?? contact?.groups ?? [])
        var fields: [(String, String)] =
            if let typed { zip(typed.all("field_name"), typed.all("field_value")).map { ($0, $1) } } else {
                (contact?.fields ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            }
        fields = fields.filter { !$0.0.isEmpty || !$0.1.isEmpty } + [("", ""), ("", "")]
        return [
            "id": contact?.id ?? "",
            "name": typed?.value("name") ?? contact?.name ?? "",
            "first_name": typed?.value("first_name") ?? contact?.firstName ?? "",
            "phone": typed?.value("phone") ?? contact.map { WebFormat.phone($0.phone) } ?? "",
            "email": typed?.value("email") ?? contact?.email ?? "",
            "new_groups": typed?.value("new_groups") ?? "",
            "groups": groups.map { group -> [String: Any] in
                ["name": group, "checked": chosen.contains(group)]
            },
            "fields": fields.enumerated().map { index, field -> [String: Any] in
                ["index": index + 1, "name": field.0, "value": field.1]
            },
            "consent_agreed": typed?.value("consent") == "opted_in",
            "consent_basis": typed?.value("consent_basis") ?? "",
        ]
    }

    /// The groups a form chose: ticked ones and any typed in "new groups" (comma-separated).
    static func chosenGroups(_ form: WebForm) -> [String] {
        form.values("groups")
            + (form.value("new_groups") ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
    }

    /// Custom fields from the form's name / value rows; a row with neither is ignored.
    static func chosenFields(_ form: WebForm) -> [String: String] {
        var fields: [String: String] = [:]
        for (name, value) in zip(form.all("field_name"), form.all("field_value")) {
            let key = name.trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty || !value.isEmpty else { continue }
            fields[key] = value
        }
        return fields
    }

    static func newContact(_ form: WebForm) throws -> NewContactInput {
        let agreed = form.value("consent") == "opted_in"
        if agreed, form.trimmed("consent_basis") == nil {
            throw APIError.invalid(
                "consent_basis",
                "Say how they agreed to receive texts (for example, signed the enrolment form).",
                code: "field_required"
            )
        }
        return NewContactInput(
            name: form.value("name") ?? "",
            firstName: form.trimmed("first_name"),
            phone: form.value("phone") ?? "",
            email: form.trimmed("email"),
            groups: chosenGroups(form),
            fields: chosenFields(form),
            consent: agreed ? .optedIn : nil,
            consentBasis: agreed ? form.trimmed("consent_basis") : nil
        )
    }

    static func contactPatch(_ form: WebForm) throws -> ContactPatch {
        // A cleared first name becomes the name's first word again, as for a new contact.
        let firstWord = (form.value("name") ?? "").split(separator: " ").first.map(String.init)
        return ContactPatch(
            name: form.value("name") ?? "",
            firstName: form.trimmed("first_name") ?? firstWord,
            phone: form.value("phone") ?? "",
            email: form.value("email")?.trimmingCharacters(in: .whitespaces) ?? "",
            groups: chosenGroups(form),
            fields: chosenFields(form)
        )
    }

    /// A path with a query string.
    static func link(_ path: String, _ pairs: [(String, String)]) -> String {
        guard !pairs.isEmpty else { return path }
        return path + "?"
            + pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            .joined(separator: "&")
    }
}

extension WebForm {
    /// Every value of a repeated field in order, empty ones included (rows of inputs).
    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }
}
