import CreditsCore
import CreditsServices
import CreditsStore
import Hummingbird

/// `/v1/organization`, `/v1/staff`, `/v1/api-keys`.
struct OrganizationRoutes {
    let administration: AdministrationService

    func add(to table: RouteTable, group: RouterGroup<AppRequestContext>) {
        let administration = administration
        table.add(.get, "/v1/organization", through: group) { _, context in
            let principal = try context.authenticated()
            return try JSONOutput.response(OrganizationView(organization: principal.organization, me: principal.staff))
        }
        table.add(.patch, "/v1/organization", through: group) { request, context in
            let principal = try context.authenticated()
            let patch = try await JSONInput.decode(OrganizationPatch.self, from: request)
            var organization = principal.organization
            if let name = patch.name { organization = try await administration.renameOrganization(principal, to: name) }
            if let day = patch.allotmentDay {
                organization = try await administration.setAllotmentDay(principal, to: day)
            }
            return try JSONOutput.response(OrganizationView(organization: organization, me: principal.staff))
        }
        table.add(.patch, "/v1/organization/sms-settings", through: group) { request, context in
            let principal = try context.authenticated()
            let patch = try await JSONInput.decode(SMSSettingsPatch.self, from: request)
            let organization = try await administration.updateSMSSettings(principal, patch)
            return try JSONOutput.response(OrganizationView(organization: organization, me: principal.staff))
        }

        table.add(.get, "/v1/staff", through: group) { request, context in
            let principal = try context.authenticated()
            return try await QueryValues.oldestFirst(request) { cursor, limit in
                try await administration.staff(principal, after: cursor, limit: limit)
            }
        }
        table.add(.post, "/v1/staff", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(NewStaffInput.self, from: request)
            return try JSONOutput.response(try await administration.addStaff(principal, input), status: .created)
        }
        table.add(.get, "/v1/staff/{id}", through: group) { _, context in
            let principal = try context.authenticated()
            return try JSONOutput.response(
                try await administration.visibleStaffMember(principal, try context.parameter("id"))
            )
        }
        table.add(.patch, "/v1/staff/{id}", through: group) { request, context in
            let principal = try context.authenticated()
            let patch = try await JSONInput.decode(StaffPatch.self, from: request)
            return try JSONOutput.response(
                try await administration.updateStaff(principal, try context.parameter("id"), patch)
            )
        }
        table.add(.get, "/v1/staff/{id}/credit-capacity", through: group) { request, context in
            let principal = try context.authenticated()
            let credits = try QueryValues.credits(request.query("credits"), field: "credits")
            return try JSONOutput.response(
                try await administration.creditCapacity(principal, try context.parameter("id"), credits: credits)
            )
        }
        table.add(.delete, "/v1/staff/{id}", through: group) { _, context in
            let principal = try context.authenticated()
            try await administration.deleteStaff(principal, try context.parameter("id"))
            return Response(status: .noContent)
        }

        table.add(.get, "/v1/api-keys", through: group) { request, context in
            let principal = try context.authenticated()
            return try await QueryValues.oldestFirst(request) { cursor, limit in
                try await administration.keys(principal, after: cursor, limit: limit)
            }
        }
        table.add(.post, "/v1/api-keys", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(NewAPIKeyInput.self, from: request)
            let (record, key) = try await administration.createKey(principal, input)
            return try JSONOutput.response(NewKeyView(key: record, secret: key), status: .created)
        }
        table.add(.delete, "/v1/api-keys/{id}", through: group) { _, context in
            let principal = try context.authenticated()
            try await administration.revokeKey(principal, try context.parameter("id"))
            return Response(status: .noContent)
        }
    }
}

/// `GET /v1/organization`: the organisation, its settings, and who is asking.
struct OrganizationView: Encodable, Sendable {
    let organization: Organization
    let me: StaffMember

    enum CodingKeys: String, CodingKey {
        case me
        case allotmentDay = "allotment_day"
    }

    func encode(to encoder: any Encoder) throws {
        try organization.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(me, forKey: .me)
        try container.encode(organization.allotmentDay, forKey: .allotmentDay)
    }
}

/// A new API key: the only time its secret is shown.
struct NewKeyView: Encodable, Sendable {
    let key: APIKeyRecord
    let secret: String

    enum CodingKeys: String, CodingKey { case apiKey = "api_key" }

    func encode(to encoder: any Encoder) throws {
        try key.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(secret, forKey: .apiKey)
    }
}
