# Source: pytorch/examples, word_language_model/model.py (PositionalEncoding and TransformerModel,
#   verbatim) with the training loop of word_language_model/main.py run with --model Transformer
#   https://github.com/pytorch/examples/blob/001d493285083b54cacbc1334cb26338bdff2455/word_language_model/model.py
#   https://github.com/pytorch/examples/blob/0f4dca7dc202798f545ca7c006c91956cb584f43/word_language_model/main.py
# Changes (ember corpus):
#   - data.Corpus (a download of Wikitext-2) replaced by a word-level corpus built from an inline
#     text, split 80/10/10 into train/valid/test
#   - main.py's loop brought to torch 2.x the way its later versions have it: repackage_hidden uses
#     .detach() (Variable is gone), `total_loss[0]` -> `total_loss` / `.item()`, `p.data.add_(-lr, g)`
#     -> `p.data.add_(g, alpha=-lr)`, clip_grad_norm -> clip_grad_norm_; timing columns dropped
#   - the Transformer branches of later main.py versions (no hidden state; model(data) and
#     output.view(-1, ntokens)); sizes: emsize/nhid 200 -> 32, nhead 2, nlayers 2, dropout 0.2, bptt 35 -> 8, batch size 20 -> 4, 2 epochs,
#     log-interval 200 -> 2; the best model is saved to (and reloaded from) a temporary directory
import math
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

class PositionalEncoding(nn.Module):
    r"""Inject some information about the relative or absolute position of the tokens in the sequence.
        The positional encodings have the same dimension as the embeddings, so that the two can be summed.
        Here, we use sine and cosine functions of different frequencies.
    """

    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super(PositionalEncoding, self).__init__()
        self.dropout = nn.Dropout(p=dropout)

        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer('pe', pe)

    def forward(self, x):
        x = x + self.pe[:x.size(0), :]
        return self.dropout(x)

class TransformerModel(nn.Transformer):
    """Container module with an encoder, a recurrent or transformer module, and a decoder."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super(TransformerModel, self).__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid, num_encoder_layers=nlayers)
        self.model_type = 'Transformer'
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)

        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)

        self.init_weights()

    def _generate_square_subsequent_mask(self, sz):
        mask = (torch.triu(torch.ones(sz, sz)) == 1).transpose(0, 1)
        mask = mask.float().masked_fill(mask == 0, float('-inf')).masked_fill(mask == 1, float(0.0))
        return mask

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, src, has_mask=True):
        if has_mask:
            device = src.device
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                mask = self._generate_square_subsequent_mask(len(src)).to(device)
                self.src_mask = mask
        else:
            self.src_mask = None

        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return F.log_softmax(output, dim=-1)


class Args:
    model = 'Transformer'; nhead = 2; emsize = 32; nhid = 32; nlayers = 2; lr = 20; clip = 0.25; epochs = 2
    batch_size = 4; bptt = 8; dropout = 0.2; tied = False; seed = 1111; log_interval = 2


args = Args()
torch.manual_seed(args.seed)
device = torch.device("cpu")

TEXT = ("the cat sat on the mat . the dog sat on the log . a cat and a dog met on a mat . "
        "the dog saw the cat and the cat saw the dog . on the log sat a frog . the frog saw a cat . ") * 4
words = TEXT.split()
vocab = {}
for w in words:
    vocab.setdefault(w, len(vocab))
ids = torch.tensor([vocab[w] for w in words], dtype=torch.long)
n = len(ids)
train_ids, valid_ids, test_ids = ids[:int(0.8 * n)], ids[int(0.8 * n):int(0.9 * n)], ids[int(0.9 * n):]


def batchify(data, bsz):
    # Work out how cleanly we can divide the dataset into bsz parts.
    nbatch = data.size(0) // bsz
    # Trim off any extra elements that wouldn't cleanly fit (remainders).
    data = data.narrow(0, 0, nbatch * bsz)
    # Evenly divide the data across the bsz batches.
    data = data.view(bsz, -1).t().contiguous()
    return data.to(device)

eval_batch_size = 2
train_data = batchify(train_ids, args.batch_size)
val_data = batchify(valid_ids, eval_batch_size)
test_data = batchify(test_ids, eval_batch_size)

ntokens = len(vocab)
print("vocab size (%d)" % (ntokens))
model = TransformerModel(ntokens, args.emsize, args.nhead, args.nhid, args.nlayers, args.dropout).to(device)

criterion = nn.NLLLoss()


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i):
    seq_len = min(args.bptt, len(source) - 1 - i)
    data = source[i:i+seq_len]
    target = source[i+1:i+1+seq_len].view(-1)
    return data, target


def evaluate(data_source):
    # Turn on evaluation mode which disables dropout.
    model.eval()
    total_loss = 0.
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, args.bptt):
            data, targets = get_batch(data_source, i)
            output = model(data)
            output = output.view(-1, ntokens)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train():
    # Turn on training mode which enables dropout.
    model.train()
    total_loss = 0.
    for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
        data, targets = get_batch(train_data, i)
        model.zero_grad()
        output = model(data)
        output = output.view(-1, ntokens)
        loss = criterion(output, targets)
        loss.backward()

        # `clip_grad_norm` helps prevent the exploding gradient problem in RNNs / LSTMs.
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)

        total_loss += loss.item()

        if batch % args.log_interval == 0 and batch > 0:
            cur_loss = total_loss / args.log_interval
            print('| epoch {:3d} | {:5d}/{:5d} batches | lr {:02.2f} | '
                    'loss {:5.2f} | ppl {:8.2f}'.format(
                epoch, batch, len(train_data) // args.bptt, lr, cur_loss, math.exp(cur_loss)))
            total_loss = 0


# Loop over epochs.
lr = args.lr
best_val_loss = None
save = os.path.join(tempfile.mkdtemp(), 'model.pt')

for epoch in range(1, args.epochs+1):
    train()
    val_loss = evaluate(val_data)
    print('-' * 89)
    print('| end of epoch {:3d} | valid loss {:5.2f} | '
            'valid ppl {:8.2f}'.format(epoch, val_loss, math.exp(val_loss)))
    print('-' * 89)
    # Save the model if the validation loss is the best we've seen so far.
    if not best_val_loss or val_loss < best_val_loss:
        with open(save, 'wb') as f:
            torch.save(model, f)
        best_val_loss = val_loss
    else:
        # Anneal the learning rate if no improvement has been seen in the validation dataset.
        lr /= 4.0

# Load the best saved model.
with open(save, 'rb') as f:
    model = torch.load(f, weights_only=False)

# Run on test data.
test_loss = evaluate(test_data)
print('=' * 89)
print('| End of training | test loss {:5.2f} | test ppl {:8.2f}'.format(
    test_loss, math.exp(test_loss)))
print('=' * 89)
