DROP TRIGGER organization_tree_truncated ON organizations;
DROP TRIGGER organization_tree_changed ON organizations;
DROP FUNCTION bump_organization_tree_version();
DROP TABLE organization_tree_version;
