# HelloMsg: the optional first TCP frame of newer clients, sent unpacked (see ../shared/spec/wire.md).
@0xcf4762d38e91a0b1;

struct HelloMsg {
  fromName @0 :Text;
  fromHost @1 :Text;
  fromAddress @2 :Text;
  toAddress @3 :Text;
  fromPublicIP @4 :Text;
}
