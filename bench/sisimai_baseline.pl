#!/usr/bin/perl
# sisimai_baseline.pl PATH... - Sisimai (Debian's libsisimai-perl) over
# the same messages, as `make bench`'s second baseline: parse every
# message (an mbox file or a Maildir-like folder of files) and render
# each result as JSON, as `bounced parse --json` does.
use strict;
use warnings;
use Sisimai;

my $n = 0;
for my $path (@ARGV) {
	my $v = Sisimai->make($path, 'delivered' => 1) || [];
	for my $e (@$v) {
		my $j = $e->dump('json');
		$n++;
	}
}
print STDERR "sisimai_baseline: $n results\n";
