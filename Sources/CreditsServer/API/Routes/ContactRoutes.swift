import CreditsCore
import CreditsServices
import CreditsStore
import Hummingbird

/// `/v1/contacts`, `/v1/groups`.
struct ContactRoutes {
    let contacts: ContactService
    let imports: ContactImportService

    func add(to table: RouteTable, group: RouterGroup<AppRequestContext>) {
        let (contacts, imports) = (contacts, imports)
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
            return try JSONOutput.response(try await contacts.create(principal, input).contact, status: .created)
        }
        table.add(.post, "/v1/contacts/import", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(ImportInput.self, from: request, sizeMax: 8 << 20)
            let job = try await imports.submit(principal, input)
            // Finished in the request: 201; still being added by the import job: 202, with where to look.
            guard job.status != .completed else { return try JSONOutput.response(job, status: .created) }
            var response = try JSONOutput.response(job, status: .accepted)
            response.headers[.location] = "/v1/contacts/imports/\(job.id)"
            return response
        }
        table.add(.get, "/v1/contacts/imports", through: group) { request, context in
            let principal = try context.authenticated()
            let limit = try QueryValues.limit(request.query("limit"))
            let page = try await imports.imports(principal, after: request.query("cursor"), limit: limit)
            return try JSONOutput.response(Page(data: page, nextCursor: page.count == limit ? page.last?.id : nil))
        }
        table.add(.get, "/v1/contacts/imports/{id}", through: group) { _, context in
            let principal = try context.authenticated()
            return try JSONOutput.response(try await imports.view(principal, try context.parameter("id")))
        }
        table.add(.get, "/v1/contacts/imports/{id}/rows", through: group) { request, context in
            let principal = try context.authenticated()
            var outcome: ImportRowOutcome?
            if let text = request.query("outcome") {
                guard let parsed = ImportRowOutcome(rawValue: text), parsed != .pending else {
                    throw APIError(
                        .badRequest,
                        "query_invalid",
                        "outcome is added, skipped or refused.",
                        field: "outcome"
                    )
                }
                outcome = parsed
            }
            let limit = try QueryValues.limit(request.query("limit"))
            let after = try QueryValues.index(request.query("cursor"))
            let rows = try await imports.rows(
                principal,
                try context.parameter("id"),
                outcome: outcome,
                afterIndex: after,
                limit: limit
            )
            return try JSONOutput.response(
                Page(data: rows, nextCursor: rows.count == limit ? rows.last.map { String($0.index) } : nil)
            )
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
                try await contacts.setConsent(principal, try context.parameter("id"), input)
            )
        }
        table.add(.get, "/v1/groups", through: group) { request, context in
            let principal = try context.authenticated()
            let limit = try QueryValues.limit(request.query("limit"))
            let page = try await contacts.groups(principal, afterName: request.query("cursor"), limit: limit)
            return try JSONOutput.response(Page(data: page, nextCursor: page.count == limit ? page.last?.name : nil))
        }
        table.add(.post, "/v1/groups", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(GroupInput.self, from: request)
            return try JSONOutput.response(try await contacts.createGroup(principal, input), status: .created)
        }
        table.add(.get, "/v1/groups/{id}", through: group) { _, context in
            let principal = try context.authenticated()
            return try JSONOutput.response(try await contacts.group(principal, try context.parameter("id")))
        }
        table.add(.patch, "/v1/groups/{id}", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(GroupInput.self, from: request)
            return try JSONOutput.response(
                try await contacts.renameGroup(principal, try context.parameter("id"), input)
            )
        }
        table.add(.delete, "/v1/groups/{id}", through: group) { _, context in
            let principal = try context.authenticated()
            _ = try await contacts.deleteGroup(principal, try context.parameter("id"))
            return Response(status: .noContent)
        }
    }
}
