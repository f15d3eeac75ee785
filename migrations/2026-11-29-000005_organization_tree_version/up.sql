-- A counter that moves whenever the organisation tree changes (an organisation added, removed or
-- moved), so a process may hold the tree in memory and see, in the same round trip that
-- authenticates a request, whether its copy is still the current one.
CREATE TABLE organization_tree_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version bigint NOT NULL DEFAULT 0
);
INSERT INTO organization_tree_version DEFAULT VALUES;

CREATE FUNCTION bump_organization_tree_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organization_tree_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER organization_tree_changed
    AFTER INSERT OR DELETE OR UPDATE OF parent_id ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION bump_organization_tree_version();
CREATE TRIGGER organization_tree_truncated
    AFTER TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION bump_organization_tree_version();
