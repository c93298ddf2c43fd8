-- 0003: the access log names every child whose entries a pull disclosed.
--
-- A family pull shows several children's histories, and which children
-- belong to a family changes as links are added; logging only the child
-- asked about would not say whose records were read. `children` holds the
-- disclosed child references, space-separated. Rows logged before this
-- migration have only `child`.

ALTER TABLE access_log ADD COLUMN children TEXT NOT NULL DEFAULT '';
