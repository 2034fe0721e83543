# The prelude of a full sync of table ip sscontroller, run by the node agent as
#   nft -t list table ip sscontroller | awk -f nft-sync.awk ruleset.nft -
# It prints commands that, placed before ruleset.nft in ONE `nft -f` transaction, remove everything the table holds
# except the sessionAffinity sets the new ruleset declares again: every chain is flushed (dropping rule references),
# then every other set and map is deleted (dropping verdict references to chains), then every chain is deleted.
# ruleset.nft then declares the whole table again; a re-declared affinity set keeps its elements and their timeouts,
# which `delete table` would wipe (kube-proxy's nftables mode keeps them the same way). Names in our table never hold
# spaces (they are built from DNS labels, addresses and ports), so a field split is exact.
FNR == NR {
  if ($1 == "set" && $3 == "{" && $2 ~ /^affinity-/) keep[$2] = 1
  next
}
/^\t(chain|set|map) [^ ]+ \{$/ {
  if ($1 == "chain") chains[++nc] = $2
  else if (!($2 in keep)) sets[++ns] = $1 " ip sscontroller " $2
}
END {
  for (i = 1; i <= nc; i++) print "flush chain ip sscontroller " chains[i]
  for (i = 1; i <= ns; i++) print "delete " sets[i]
  for (i = 1; i <= nc; i++) print "delete chain ip sscontroller " chains[i]
}
