#!/usr/bin/perl
# An independent DKIM verifier for the tests: Mail::DKIM (Debian's libmail-dkim-perl), asking
# a DNS server of its own on loopback (Net::DNS::Nameserver, forked here) for the selector's
# public key, as a receiving server would ask the domain's DNS.
#
# Usage: dkim_verify.pl PORT NAME PUBLIC_KEY_BASE64 < message
# Prints the verifier's result ("pass", "fail", "none", "invalid"…) and its detail.
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Net::DNS::Nameserver;
use Net::DNS::Resolver;

my ($port, $name, $key) = @ARGV;
my $record = "v=DKIM1; k=rsa; p=$key";
my @strings = unpack("(A255)*", $record);    # TXT strings hold 255 bytes each

my $server = fork();
die "fork: $!" unless defined $server;
if ($server == 0) {
    my $dns = Net::DNS::Nameserver->new(
        LocalAddr    => "127.0.0.1",
        LocalPort    => $port,
        ReplyHandler => sub {
            my ($qname, $qclass, $qtype) = @_;
            if (lc($qname) eq lc($name) && $qtype eq "TXT") {
                my $rr = Net::DNS::RR->new(name => $qname, type => "TXT", ttl => 60,
                    txtdata => [@strings]);
                return ("NOERROR", [$rr], [], [], {aa => 1});
            }
            return ("NXDOMAIN", [], [], [], {aa => 1});
        },
    ) or die "cannot start the DNS server";
    $dns->main_loop;
    exit 0;
}

my $resolver = Net::DNS::Resolver->new(nameservers => ["127.0.0.1"], port => $port,
    recurse => 0, tcp_timeout => 5, udp_timeout => 5, retry => 20, retrans => 0.25);
Mail::DKIM::DNS::resolver($resolver);

my $verifier = Mail::DKIM::Verifier->new();
binmode STDIN;
while (my $line = <STDIN>) {
    $line =~ s/\r?\n\z/\r\n/;    # CRLF, as on the wire
    $verifier->PRINT($line);
}
$verifier->CLOSE;
print $verifier->result, " ", ($verifier->result_detail // ""), "\n";
kill "TERM", $server;
waitpid($server, 0);
