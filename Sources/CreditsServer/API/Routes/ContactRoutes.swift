import CreditsCore
import CreditsServices
import CreditsStore
import Hummingbird

/// `/v1/contacts`, `/v1/groups`.
struct ContactRoutes {
    let contacts: ContactService

    func add(to table: RouteTable, group: RouterGroup<AppRequestContext>) {
        let contacts = contacts
        table.add(.get, "/v1/contacts", through: group) { request, context in
            let principal = try context.authenticated()
            var consent: ConsentState?
            if let text = request.query("consent") {
                guard let state = ConsentState(rawValue: text) else {
                    throw APIError(
                        .badRequest,
                        "query_invalid",
                        "consent is pending, opted_in or opted_out.",
                        field: "consent"
                    )
                }
                consent = state
            }
            let limit = try QueryValues.limit(request.query("limit"))
            let page = try await contacts.list(
                principal,
                ContactQuery(
                    group: request.query("group")?.lowercased(),
                    consent: consent,
                    search: request.query("search"),
                    afterID: request.query("cursor"),
                    limit: limit
                )
            )
            return try JSONOutput.response(Page(data: page, nextCursor: page.count == limit ? page.last?.id : nil))
        }
        table.add(.post, "/v1/contacts", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(NewContactInput.self, from: request)
            return try JSONOutput.response(try await contacts.create(principal, input), status: .created)
        }
        table.add(.post, "/v1/contacts/import", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(ImportInput.self, from: request, sizeMax: 8 << 20)
            return try JSONOutput.response(try await contacts.importContacts(principal, input), status: .created)
        }
        table.add(.get, "/v1/contacts/{id}", through: group) { _, context in
            let principal = try context.authenticated()
            return try JSONOutput.response(try await contacts.detail(principal, try context.parameter("id")))
        }
        table.add(.patch, "/v1/contacts/{id}", through: group) { request, context in
            let principal = try context.authenticated()
            let patch = try await JSONInput.decode(ContactPatch.self, from: request)
            return try JSONOutput.response(try await contacts.update(principal, try context.parameter("id"), patch))
        }
        table.add(.delete, "/v1/contacts/{id}", through: group) { _, context in
            let principal = try context.authenticated()
            try await contacts.delete(principal, try context.parameter("id"))
            return Response(status: .noContent)
        }
        table.add(.post, "/v1/contacts/{id}/consent", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(ConsentInput.self, from: request)
            return try JSONOutput.response(
                try await contacts.setConsent(principal, try context.parameter("id"), input.state)
            )
        }
        table.add(.get, "/v1/groups", through: group) { _, context in
            let principal = try context.authenticated()
            return try JSONOutput.response(Page(data: try await contacts.groups(principal), nextCursor: nil))
        }
    }
}
